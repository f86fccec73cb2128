/* tools_args — see tools_args.h. */
#include "tools_args.h"

#include "iso8601.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void tools_args_problem(struct targs *a, const char *fmt, ...)
{
	if (a->nproblems == TARGS_MAX_PROBLEMS)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->problem[a->nproblems++], TARGS_PROBLEM_LEN, fmt, ap);
	va_end(ap);
}

const char *tools_args_got(const struct json_doc *d, int t, char *out, size_t cap)
{
	size_t n;
	const char *raw = json_raw(d, t, &n);
	const char *more = "";
	if (n > TARGS_GOT_MAX) {
		n = TARGS_GOT_MAX;
		while (n && ((unsigned char)raw[n] & 0xC0) == 0x80)
			n--; /* do not cut a UTF-8 character */
		more = "...";
	}
	snprintf(out, cap, "%.*s%s", (int)n, raw, more);
	return out;
}

/* Check value t against s; 0 with *v set, or -1 after adding the problem. */
static int check_one(struct targs *a, const struct targ_spec *s, int t, char *str, int64_t *v)
{
	const struct json_doc *d = a->d;
	char g[TARGS_GOT_MAX + 8];
	const char *bad = s->bad;
	switch (s->type) {
	case TARG_INTEGER: {
		int r = json_int(d, t, v);
		if (r == 0 && *v >= s->min && *v <= s->max)
			return 0;
		if (r != 0 && r != JSON_E_RANGE && s->bad_type)
			bad = s->bad_type;
		break;
	}
	case TARG_STRING: {
		size_t n;
		if (!str)
			break; /* no buffer given: a bug of the tool's table, refused rather than read */
		if (json_type(d, t) == JSON_STRING && json_unescape(d, t, str, (size_t)s->max + 1, &n) == 0 &&
		    (int64_t)n >= s->min) {
			*v = (int64_t)n;
			return 0;
		}
		str[0] = 0;
		break;
	}
	case TARG_ENUM:
		for (int i = 1; i <= s->nvalues; i++)
			if (json_streq(d, t, s->values[i])) {
				*v = i;
				return 0;
			}
		break;
	case TARG_DATE: {
		char buf[80];
		size_t n;
		int date_only = 0;
		if (json_type(d, t) == JSON_STRING && json_unescape(d, t, buf, sizeof buf, &n) == 0 &&
		    iso8601_parse(buf, n, v, &date_only) == 0) {
			if (s->end && date_only)
				*v += 86400000 - 1; /* the whole day */
			return 0;
		}
		break;
	}
	}
	tools_args_problem(a, "%s %s, got %s", s->name, bad, tools_args_got(d, t, g, sizeof g));
	return -1;
}

void tools_args_check(struct targs *a, const char *tool, const struct targ_spec *spec, int n, const struct json_doc *d,
		 int args, char *const *strings)
{
	a->d = d;
	a->nproblems = 0;
	for (int i = 0; i < n; i++)
		a->tok[i] = -1;
	int seen[TARGS_MAX] = {0};
	char unknown[TARGS_PROBLEM_LEN] = "", g[TARGS_GOT_MAX + 8];
	size_t ulen = 0;
	int nunknown = 0;
	for (int k = args >= 0 ? json_first(d, args) : -1; k >= 0; k = json_next(d, k)) {
		int i = 0;
		while (i < n && !json_streq(d, k, spec[i].name))
			i++;
		if (i < n) {
			if (seen[i]++)
				tools_args_problem(a, "%s is given more than once", spec[i].name);
			int v = json_value(d, k);
			a->tok[i] = json_type(d, v) == JSON_NULL ? -1 : v; /* null: not given */
			continue;
		}
		if (nunknown++ < 5 && ulen < sizeof unknown - TARGS_GOT_MAX - 16) {
			int w = snprintf(unknown + ulen, sizeof unknown - ulen, "%s%s", ulen ? ", " : "",
					 tools_args_got(d, k, g, sizeof g));
			if (w > 0)
				ulen += (size_t)w;
		}
	}
	if (nunknown) {
		if (nunknown > 5)
			snprintf(unknown + ulen, sizeof unknown - ulen, " and %d more", nunknown - 5);
		char names[TARGS_PROBLEM_LEN / 2] = "";
		size_t o = 0;
		for (int i = 0; i < n && o < sizeof names; i++)
			o += (size_t)snprintf(names + o, sizeof names - o, "%s%s", i == 0 ? "" : i == n - 1 ? " and " : ", ",
					      spec[i].name);
		tools_args_problem(a, "unknown argument%s %s; %s takes %s", nunknown > 1 ? "s" : "", unknown, tool, names);
	}
	for (int i = 0; i < n; i++) {
		if (a->tok[i] < 0) {
			if (spec[i].required)
				tools_args_problem(a, "%s is required", spec[i].name);
			continue;
		}
		if (check_one(a, &spec[i], a->tok[i], strings ? strings[i] : NULL, &a->num[i]) != 0)
			a->tok[i] = -1;
	}
}

int tools_args_finish(const struct targs *a, char *err, size_t cap)
{
	if (a->nproblems == 0)
		return 0;
	if (a->nproblems == 1) {
		snprintf(err, cap, "Invalid argument: %s.", a->problem[0]);
		return -1;
	}
	size_t o = (size_t)snprintf(err, cap, "Invalid arguments:");
	for (int i = 0; i < a->nproblems && o < cap; i++) {
		int w = snprintf(err + o, cap - o, "\n- %s.", a->problem[i]);
		if (w < 0)
			break;
		o += (size_t)w;
	}
	return -1;
}
