/* iso8601 — see iso8601.h. The calendar arithmetic is Howard Hinnant's
 * days_from_civil/civil_from_days: exact over the proleptic Gregorian
 * calendar, integers only. */
#include "iso8601.h"

#define MS_PER_DAY INT64_C(86400000)

int64_t iso8601_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                                  /* [0, 399] */
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Exactly n decimal digits at p[*i]; advances *i. -1 if not all digits. */
static int digits(const char *p, size_t len, size_t *i, int n)
{
	if (len - *i < (size_t)n)
		return -1;
	int v = 0;
	for (int k = 0; k < n; k++) {
		char c = p[*i + (size_t)k];
		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*i += (size_t)n;
	return v;
}

static int at(const char *p, size_t len, size_t i, char c)
{
	return i < len && p[i] == c;
}

int iso8601_parse(const char *p, size_t len, int64_t *ms, int *date_only)
{
	size_t i = 0;
	int y = digits(p, len, &i, 4);
	if (y < 1970 || !at(p, len, i++, '-'))
		return -1;
	int mo = digits(p, len, &i, 2);
	if (mo < 1 || mo > 12 || !at(p, len, i++, '-'))
		return -1;
	int d = digits(p, len, &i, 2);
	if (d < 1 || d > days_in_month(y, mo))
		return -1;
	int hh = 0, mm = 0, ss = 0, frac_ms = 0, off_min = 0, only_date = 1;
	if (i < len) {
		if (p[i] != 'T' && p[i] != 't' && p[i] != ' ')
			return -1;
		i++;
		only_date = 0;
		hh = digits(p, len, &i, 2);
		if (hh < 0 || hh > 23 || !at(p, len, i++, ':'))
			return -1;
		mm = digits(p, len, &i, 2);
		if (mm < 0 || mm > 59)
			return -1;
		if (at(p, len, i, ':')) {
			i++;
			ss = digits(p, len, &i, 2);
			if (ss < 0 || ss > 59)
				return -1;
			if (at(p, len, i, '.') || at(p, len, i, ',')) { /* ISO 8601 allows a comma too */
				i++;
				size_t start = i;
				while (i < len && p[i] >= '0' && p[i] <= '9') {
					if (i - start < 3)
						frac_ms = frac_ms * 10 + (p[i] - '0');
					i++;
				}
				if (i == start)
					return -1;
				for (size_t k = i - start; k < 3; k++)
					frac_ms *= 10;
			}
		}
		if (i < len) {
			char c = p[i++];
			if (c == 'Z' || c == 'z') {
				/* UTC */
			} else if (c == '+' || c == '-') {
				int oh = digits(p, len, &i, 2), om = 0;
				if (oh < 0 || oh > 23)
					return -1;
				if (at(p, len, i, ':')) {
					i++;
					if ((om = digits(p, len, &i, 2)) < 0)
						return -1;
				} else if (i < len) {
					if ((om = digits(p, len, &i, 2)) < 0)
						return -1;
				}
				if (om > 59)
					return -1;
				off_min = (oh * 60 + om) * (c == '-' ? -1 : 1);
			} else {
				return -1;
			}
		}
	}
	if (i != len)
		return -1;
	int64_t days = iso8601_days_from_civil(y, mo, d);
	int64_t t = days * MS_PER_DAY + ((int64_t)hh * 3600 + mm * 60 + ss) * 1000 + frac_ms;
	t -= (int64_t)off_min * 60000; /* local = UTC + offset */
	if (t < 0 || t > ISO8601_MAX_MS)
		return -1;
	*ms = t;
	if (date_only)
		*date_only = only_date;
	return 0;
}

static void put_digits(char *o, int64_t v, int n)
{
	for (int k = n - 1; k >= 0; k--) {
		o[k] = (char)('0' + v % 10);
		v /= 10;
	}
}

int iso8601_format(int64_t ms, char *out)
{
	if (ms < 0 || ms > ISO8601_MAX_MS)
		return -1;
	int64_t days = ms / MS_PER_DAY, rem = ms % MS_PER_DAY, y;
	int m, d;
	civil_from_days(days, &y, &m, &d);
	put_digits(out, y, 4);
	out[4] = '-';
	put_digits(out + 5, m, 2);
	out[7] = '-';
	put_digits(out + 8, d, 2);
	out[10] = 'T';
	put_digits(out + 11, rem / 3600000, 2);
	out[13] = ':';
	put_digits(out + 14, rem / 60000 % 60, 2);
	out[16] = ':';
	put_digits(out + 17, rem / 1000 % 60, 2);
	out[19] = '.';
	put_digits(out + 20, rem % 1000, 3);
	out[23] = 'Z';
	out[24] = 0;
	return ISO8601_LEN;
}
