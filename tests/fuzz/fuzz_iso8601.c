/*
 * fuzz_iso8601 — iso8601_parse over any bytes, and the round trip: whatever
 * parses formats to 24 bytes that parse back to the same instant; any 64-bit
 * value inside [0, ISO8601_MAX_MS] formats and parses back to itself, and
 * any outside is refused by the formatter.
 */
#include "fuzz.h"
#include "iso8601.h"

#include <string.h>

static void round_trip(int64_t ms)
{
	char out[ISO8601_LEN + 1];
	memset(out, 'x', sizeof out);
	int r = iso8601_format(ms, out);
	if (ms < 0 || ms > ISO8601_MAX_MS) {
		FUZZ_ASSERT(r == -1 && out[0] == 'x'); /* refused, buffer untouched */
		return;
	}
	FUZZ_ASSERT(r == ISO8601_LEN && out[ISO8601_LEN] == 0 && strlen(out) == ISO8601_LEN);
	int64_t back = -1;
	int date_only = -1;
	FUZZ_ASSERT(iso8601_parse(out, ISO8601_LEN, &back, &date_only) == 0);
	FUZZ_ASSERT(back == ms && date_only == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t ms = -1;
	int date_only = -1;
	if (iso8601_parse((const char *)data, size, &ms, &date_only) == 0) {
		FUZZ_ASSERT(ms >= 0 && ms <= ISO8601_MAX_MS);
		FUZZ_ASSERT(date_only == 0 || date_only == 1);
		if (date_only)
			FUZZ_ASSERT(size == 10 && ms % 86400000 == 0);
		round_trip(ms);
		/* the NULL date_only form agrees */
		int64_t again = -1;
		FUZZ_ASSERT(iso8601_parse((const char *)data, size, &again, NULL) == 0 && again == ms);
	}
	if (size >= 8) {
		int64_t v;
		memcpy(&v, data, sizeof v);
		round_trip(v);
		/* folded into the valid range, so most inputs test a real instant */
		uint64_t u = (uint64_t)v % ((uint64_t)ISO8601_MAX_MS + 1);
		round_trip((int64_t)u);
	}
	return 0;
}
