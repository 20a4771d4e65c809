/*
 * fuzz_health_expect.c - libFuzzer target for the health check's
 * send/expect decoder (conf_health_data, lb/conf_health.c): a string, or
 * "hex:" and an even number of hex digits, into at most
 * CONF_HC_DATA_MAX bytes.
 *
 * The matcher that looks for `expect` in what a server sends (hc_match
 * in lb/health.c) is a static function of the checker, bound to its
 * per-server state, so it is not callable from here; this target covers
 * the part of `expect` that reads operator input.
 *
 * Invariants: a decoded value is 1..max bytes; a plain string decodes to
 * its own bytes; a hex value encodes back to the same digits (any case).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf-t.h"
#include "conf_health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_hex(const char *s, const uint8_t *out, uint32_t len)
{
	char		 hex[3];
	uint32_t	 i;

	if (strlen(s) != 4 + 2 * (size_t)len)
		abort();
	for (i = 0; i < len; i++) {
		snprintf(hex, sizeof(hex), "%02x", out[i]);
		if (strncasecmp(hex, s + 4 + 2 * i, 2) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		 out[CONF_HC_DATA_MAX];
	uint32_t	 len = 0;
	char		*s, why[128];

	if (size > 4 * CONF_HC_DATA_MAX)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';	/* libconfig strings stop at the first NUL too */
	if (conf_health_data(s, out, sizeof(out), &len, why,
	    sizeof(why)) == 0) {
		if (len < 1 || len > sizeof(out))
			abort();
		if (strncmp(s, "hex:", 4) == 0)
			check_hex(s, out, len);
		else if (strlen(s) != len || memcmp(s, out, len) != 0)
			abort();
	} else if (why[0] == '\0')
		abort();
	free(s);
	return 0;
}
