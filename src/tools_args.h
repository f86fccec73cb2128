/*
 * tools_args — the arguments of a tool call checked against a table, shared
 * by every tool: each argument's name, type (integer, string, enum, date),
 * range or length, enum values, and whether it is required. An argument
 * given as null is "not given" (clients that make every optional argument
 * nullable send it). Unknown and repeated names are refused, naming them.
 * Problems are collected (up to TARGS_MAX_PROBLEMS), so one answer names
 * every bad argument; the tool adds its cross-argument checks with
 * tools_args_problem, then tools_args_finish writes the isError text:
 *   "Invalid argument: <problem>."  or  "Invalid arguments:\n- <p1>.\n- <p2>."
 */
#ifndef TOOLS_ARGS_H
#define TOOLS_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

#define TARGS_MAX 16
#define TARGS_MAX_PROBLEMS 8
#define TARGS_PROBLEM_LEN 400
#define TARGS_GOT_MAX 60 /* bytes of a bad value quoted back */

enum targ_type {
	TARG_INTEGER, /* a JSON number with an integral value (2.0, 1e2) in [min, max] */
	TARG_STRING,  /* a JSON string of min..max bytes once unescaped, copied to the caller's buffer */
	TARG_ENUM,    /* a JSON string equal to one of values[1..nvalues]; the index is the value */
	TARG_DATE,    /* an ISO 8601 date-time or date (iso8601.h), as Unix ms; end: a date alone is its
	                 last ms */
};

struct targ_spec {
	const char *name;
	const char *const *values;   /* enum: names at [1..nvalues] */
	const char *bad;             /* "<name> <bad>, got <value>" */
	const char *bad_type;        /* integer: for a value that is no integer at all; NULL = bad */
	int64_t min, max;            /* integer: the range; string: length in bytes */
	enum targ_type type;
	int nvalues;
	int end;                     /* date: a date alone means the end of that day */
	int required;
};

struct targs {
	const struct json_doc *d;
	int tok[TARGS_MAX];          /* the value's token, -1 when not given (or null) */
	int64_t num[TARGS_MAX];      /* integer, enum index, date ms, string length */
	int nproblems;
	char problem[TARGS_MAX_PROBLEMS][TARGS_PROBLEM_LEN];
};

/* Check the arguments (object token args of d, or -1 when absent) of tool
 * against spec[0..n) (n <= TARGS_MAX). strings[i] is the buffer (max + 1
 * bytes) of string argument i, else NULL. a->tok/num hold the good values. */
void tools_args_check(struct targs *a, const char *tool, const struct targ_spec *spec, int n, const struct json_doc *d,
		 int args, char *const *strings);

/* Add a problem (a cross-argument check). */
void tools_args_problem(struct targs *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The value token t as the caller wrote it (JSON text), cut to
 * TARGS_GOT_MAX bytes, never inside a UTF-8 character. */
const char *tools_args_got(const struct json_doc *d, int t, char *out, size_t cap);

/* 0 when there was no problem; else -1 with the isError text in err[cap]. */
int tools_args_finish(const struct targs *a, char *err, size_t cap);

#endif
