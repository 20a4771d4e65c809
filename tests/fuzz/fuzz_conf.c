/*
 * fuzz_conf.c - libFuzzer target for lbd's config validation:
 * conf_load_string() on arbitrary text, leaks checked by LeakSanitizer.
 *
 * Invariants beyond "no crash, no leak": a config is returned exactly
 * when no error was reported, and every error names the file with a line
 * ("fuzz.conf:LINE: ...") as the operator is promised.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Configs past this size teach the fuzzer nothing and only slow it. */
#define FUZZ_CONF_MAX	(64 * 1024)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_errors	 errs = { 0 };
	struct conf		*c;
	char			*text;
	size_t			 i;

	if (size > FUZZ_CONF_MAX)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	c = conf_load_string(text, "fuzz.conf", &errs);
	if (c != NULL && errs.n != 0)
		abort();
	if (c == NULL && errs.n == 0)
		abort();
	for (i = 0; i < errs.n; i++)
		if (strncmp(errs.msg[i], "fuzz.conf:", 10) != 0)
			abort();
	conf_free(c);
	cfg_errors_free(&errs);
	free(text);
	return 0;
}
