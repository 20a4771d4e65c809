/*
 * fuzz_health_match.c - libFuzzer target for the health check's `expect`
 * matcher, hc_match() in lb/health.c: it looks for `expect` in what a
 * server sends, read by read, carrying the last expect_len - 1 bytes of
 * each read over to the next so a match split across reads is found.
 *
 * hc_match is a static function of the checker, so this file includes
 * lb/health.c itself (the Makefile links this target without health.o).
 *
 * Input: 1 byte expect length (1..CONF_HC_DATA_MAX), that many bytes of
 * expect, 1 byte seeding the read sizes, then the server's bytes (at most
 * HC_READ_MAX, as hc_read bounds them).  The stream is fed in reads of
 * 1..HC_CHUNK bytes; hc_match must say "found" at exactly the first read
 * after which the bytes so far contain expect (memmem over all of them),
 * and never before.
 */
#include "../../lb/health.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hc_srv	 hs;
	const uint8_t		*stream;
	size_t			 elen, n, off = 0, len;
	uint64_t		 r;
	bool			 found, want;

	if (size < 3)
		return 0;
	elen = 1 + data[0] % CONF_HC_DATA_MAX;
	if (size < 2 + elen)
		return 0;
	memset(&hs, 0, sizeof(hs));
	memcpy(hs.cfg.expect, data + 1, elen);
	hs.cfg.expect_len = (uint32_t)elen;
	r = data[1 + elen] * 0x9E3779B97F4A7C15ULL + 1;
	stream = data + 2 + elen;
	n = size - 2 - elen;
	if (n > HC_READ_MAX)
		n = HC_READ_MAX;
	while (off < n) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		len = 1 + r % (r & 1 ? 8 : HC_CHUNK);
		if (len > n - off)
			len = n - off;
		found = hc_match(&hs, stream + off, len);
		off += len;
		want = memmem(stream, off, hs.cfg.expect, elen) != NULL;
		if (found != want || hs.ntail > elen - 1)
			abort();
		if (found)
			break;
	}
	return 0;
}
