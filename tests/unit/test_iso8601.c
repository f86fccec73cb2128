/* Unit tests of iso8601: accepted forms, refusals, the calendar over every day
 * of 1970-9999, and format/parse round trips. Inputs are guarded. */
#include "iso8601.h"
#include "t.h"

#include <stdint.h>

static int parse(const char *s, int64_t *ms, int *date_only)
{
	return iso8601_parse(t_guarded(s, strlen(s)), strlen(s), ms, date_only);
}

struct good {
	const char *s;
	int64_t ms;
	int date_only;
};

static void test_accepts(void)
{
	static const struct good g[] = {
		{"2026-11-29T03:20:00Z", INT64_C(1795922400000), 0},
		{"2026-11-29T03:20:00.123Z", INT64_C(1795922400123), 0},
		{"2026-11-29T03:20:00.1Z", INT64_C(1795922400100), 0},
		{"2026-11-29T03:20:00.12Z", INT64_C(1795922400120), 0},
		{"2026-11-29T03:20:00.123999999999999999999999Z", INT64_C(1795922400123), 0},
		{"2026-11-29T03:20:00,5Z", INT64_C(1795922400500), 0},
		{"2026-11-29T11:20:00+08:00", INT64_C(1795922400000), 0},
		{"2026-11-29T11:20:00+0800", INT64_C(1795922400000), 0},
		{"2026-11-29T11:20:00+08", INT64_C(1795922400000), 0},
		{"2026-11-28T21:50:00-05:30", INT64_C(1795922400000), 0},
		{"2026-11-28T21:50:00-0530", INT64_C(1795922400000), 0},
		{"2026-11-29T03:20:00-00:00", INT64_C(1795922400000), 0},
		{"2026-11-29t03:20:00z", INT64_C(1795922400000), 0},
		{"2026-11-29 03:20:00Z", INT64_C(1795922400000), 0},
		{"2026-11-29T03:20:00", INT64_C(1795922400000), 0},
		{"2026-11-29T03:20Z", INT64_C(1795922400000), 0},
		{"2026-11-29T03:20", INT64_C(1795922400000), 0},
		{"2026-11-29", INT64_C(1795910400000), 1},
		{"1970-01-01", 0, 1},
		{"1970-01-01T00:00:00Z", 0, 0},
		{"1970-01-01T01:00:00+01:00", 0, 0},
		{"2000-02-29T00:00:00Z", INT64_C(951782400000), 0},
		{"2024-12-31T23:59:59Z", INT64_C(1735689599000), 0},
		{"2100-03-01T00:00:00Z", INT64_C(4107542400000), 0},
		{"9999-12-31T23:59:59.999Z", ISO8601_MAX_MS, 0},
		{"9999-12-31T23:59:59.999+00:00", ISO8601_MAX_MS, 0},
	};
	for (size_t i = 0; i < sizeof g / sizeof *g; i++) {
		int64_t ms = -1;
		int donly = -1;
		char name[128];
		snprintf(name, sizeof name, "iso8601/accepts %s", g[i].s);
		T_CHECK(name, parse(g[i].s, &ms, &donly) == 0 && ms == g[i].ms && donly == g[i].date_only);
	}
}

static void test_rejects(void)
{
	static const char *const bad[] = {
		"", "2026", "2026-11", "2026-1-29", "2026-11-9", "26-11-29", "20261129", "20261129T032000Z",
		"2026-W48-7", "2026-333", "2026-13-01", "2026-00-10", "2026-11-00", "2026-11-31", "2026-02-29",
		"2025-02-29", "2100-02-29", "2026-04-31", "1969-12-31", "1969-12-31T23:59:59Z",
		"1970-01-01T00:00:00+00:01", "10000-01-01", "9999-12-31T23:59:59-00:01", "2026-11-29T24:00:00Z",
		"2026-11-29T23:60:00Z", "2026-11-29T23:59:60Z", "2026-11-29T3:20:00Z", "2026-11-29T03:2Z",
		"2026-11-29T03", "2026-11-29T", "2026-11-29T03:20:00.Z", "2026-11-29T03:20:00.", "2026-11-29T03:20:00ZZ",
		"2026-11-29T03:20:00+24:00", "2026-11-29T03:20:00+08:60", "2026-11-29T03:20:00+8", "2026-11-29T03:20:00+08:0",
		"2026-11-29T03:20:00+080", "2026-11-29T03:20:00 Z", "2026-11-29T03:20:00UTC", "2026-11-29x03:20:00Z",
		"2026-11-29  03:20:00Z", " 2026-11-29", "2026-11-29 ", "2026-11-29T03:20:00Z ", "+2026-11-29",
		"2026/11/29", "2026-11-29T03:20:00.123+", "2026-11-29T03:20:00-", "abcd-ef-gh", "2026-11-29\n",
		"2026-11-29T03:20:00\xC3\xA9", "0000-01-01",
	};
	int all = 1;
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int64_t ms = 12345;
		char name[128];
		int r = parse(bad[i], &ms, NULL);
		if (r != -1 || ms != 12345) {
			all = 0;
			snprintf(name, sizeof name, "iso8601/rejects \"%s\"", bad[i]);
			T_CHECK(name, 0);
		}
	}
	T_CHECK("iso8601/every malformed, impossible or out-of-range input is refused", all);
	char nul[] = "2026-11-29\0";
	int64_t ms;
	T_CHECK("iso8601/an embedded NUL is not ignored", iso8601_parse(t_guarded(nul, 11), 11, &ms, NULL) == -1);
}

static void test_format(void)
{
	char out[ISO8601_LEN + 1];
	T_CHECK("iso8601/format epoch", iso8601_format(0, out) == ISO8601_LEN);
	T_STREQ("iso8601/format epoch text", out, "1970-01-01T00:00:00.000Z");
	iso8601_format(INT64_C(1795922400123), out);
	T_STREQ("iso8601/format a known instant", out, "2026-11-29T03:20:00.123Z");
	iso8601_format(INT64_C(951782400000) - 1, out);
	T_STREQ("iso8601/format the millisecond before a leap day", out, "2000-02-28T23:59:59.999Z");
	iso8601_format(ISO8601_MAX_MS, out);
	T_STREQ("iso8601/format the maximum", out, "9999-12-31T23:59:59.999Z");
	memcpy(out, "untouched", 10);
	T_CHECK("iso8601/format refuses negative", iso8601_format(-1, out) == -1 && strcmp(out, "untouched") == 0);
	T_CHECK("iso8601/format refuses past the maximum", iso8601_format(ISO8601_MAX_MS + 1, out) == -1);
}

/* Walk every day of 1970..9999 with a naive calendar; the arithmetic must agree
 * on each, and format/parse must round-trip each day's midnight and last ms. */
static void test_every_day(void)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int64_t day = 0;
	int ok_days = 1, ok_fmt = 1, ok_parse = 1;
	char out[ISO8601_LEN + 1], want[40];
	for (int y = 1970; y <= 9999; y++) {
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		for (int m = 1; m <= 12; m++) {
			int n = dim[m - 1] + (m == 2 && leap);
			for (int d = 1; d <= n; d++, day++) {
				if (iso8601_days_from_civil(y, m, d) != day)
					ok_days = 0;
				int64_t ms = day * 86400000 + 86399999, back = -1;
				iso8601_format(ms, out);
				snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, d);
				if (memcmp(out, want, 10) != 0 || memcmp(out + 10, "T23:59:59.999Z", 14) != 0)
					ok_fmt = 0;
				if (iso8601_parse(out, ISO8601_LEN, &back, NULL) != 0 || back != ms)
					ok_parse = 0;
				if (iso8601_parse(out, 10, &back, NULL) != 0 || back != day * 86400000)
					ok_parse = 0;
			}
		}
	}
	T_CHECK("iso8601/days_from_civil matches a naive calendar for every day 1970-9999", ok_days);
	T_CHECK("iso8601/format matches the naive calendar for every day", ok_fmt);
	T_CHECK("iso8601/parse(format(ms)) == ms for every day", ok_parse);
	T_CHECK("iso8601/days before 1970 are negative", iso8601_days_from_civil(1969, 12, 31) == -1);
}

static void test_random_roundtrip(void)
{
	uint64_t x = 88172645463325252ULL;
	int ok = 1;
	char out[ISO8601_LEN + 1];
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t ms = (int64_t)(x % (uint64_t)(ISO8601_MAX_MS + 1)), back = -1;
		if (iso8601_format(ms, out) != ISO8601_LEN || iso8601_parse(out, ISO8601_LEN, &back, NULL) != 0 ||
		    back != ms)
			ok = 0;
	}
	T_CHECK("iso8601/random instants round-trip", ok);
}

int main(void)
{
	t_plan(40);
	test_accepts();
	test_rejects();
	test_format();
	test_every_day();
	test_random_roundtrip();
	return t_done();
}
