/*
 * fuzz_state.c - libFuzzer target for the state file parser
 * (state_parse, lb/state.c), with a round trip: whatever parses is
 * formatted (state_format) and parsed again, and must give the same
 * entries with no bad line, since lbd rewrites the file from what it
 * read after every restart.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same_entries(const struct state *a, const struct state *b)
{
	size_t i;

	if (a->n != b->n)
		abort();
	for (i = 0; i < a->n; i++) {
		const struct state_entry *x = &a->e[i], *y = &b->e[i];

		if (x->kind != y->kind || strcmp(x->pool, y->pool) != 0 ||
		    strcmp(x->name, y->name) != 0 || x->admin != y->admin ||
		    x->weight != y->weight)
			abort();
		if (x->kind == STATE_SERVER && x->cfgweight != y->cfgweight)
			abort();
		if (x->kind == STATE_ADDED && (x->maxconn != y->maxconn ||
		    x->backup != y->backup || x->addrlen != y->addrlen ||
		    memcmp(&x->addr, &y->addr, x->addrlen) != 0))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state	 st, st2;
	size_t		 nbad, nbad2, len;
	int		 firstbad, firstbad2;
	char		*text;

	if (state_parse((const char *)data, size, &st, &nbad,
	    &firstbad) == -1)
		return 0;
	if ((nbad == 0) != (firstbad == 0))
		abort();
	if ((text = state_format(&st, &len)) == NULL) {
		state_free(&st);
		return 0;
	}
	if (state_parse(text, len, &st2, &nbad2, &firstbad2) == 0) {
		if (nbad2 != 0)
			abort();
		same_entries(&st, &st2);
		state_free(&st2);
	}
	free(text);
	state_free(&st);
	return 0;
}
