/*
 * t.h — the smallest test harness: checks print "PASS name" or
 * "FAIL name: file:line: expression", which tests/run.sh counts. A test file
 * defines main(), calls its checks, and returns t_done().
 *
 * t_plan(n) comes first in main(): it prints "PLAN n", the number of checks
 * the file must run; tests/run.sh fails a file that runs another number (one
 * that stops half-way). A check that cannot run here prints
 * T_SKIP(name, why) and still counts.
 *
 * t_guarded(data, len) copies data to the end of a page followed by an
 * unreadable page, so a parser that reads one byte too far crashes at once.
 */
#ifndef KLING_T_H
#define KLING_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int t_failed, t_ran, t_planned = -1;

static inline void t_plan(int n)
{
	t_planned = n;
	printf("PLAN %d\n", n);
	fflush(stdout);
	const char *only = getenv("KT_PLAN_ONLY"); /* another suite asks for the plan only */
	if (only && strcmp(only, "1") == 0)
		_exit(0);
}

#define T_SKIP(name, why)                               \
	do {                                            \
		printf("SKIP %s: %s\n", (name), (why)); \
		t_ran++;                                \
	} while (0)

#define T_CHECK(name, cond)                                                         \
	do {                                                                        \
		t_ran++;                                                            \
		if (cond) {                                                         \
			printf("PASS %s\n", (name));                                \
		} else {                                                            \
			printf("FAIL %s: %s:%d: %s\n", (name), __FILE__, __LINE__, #cond); \
			t_failed++;                                                 \
		}                                                                   \
	} while (0)

/* Equality of two C strings, showing both on failure. */
#define T_STREQ(name, got, want)                                                   \
	do {                                                                       \
		const char *t_g_ = (got), *t_w_ = (want);                          \
		t_ran++;                                                           \
		if (t_g_ && strcmp(t_g_, t_w_) == 0) {                             \
			printf("PASS %s\n", (name));                               \
		} else {                                                           \
			printf("FAIL %s: %s:%d: got \"%s\", want \"%s\"\n", (name), \
			       __FILE__, __LINE__, t_g_ ? t_g_ : "(null)", t_w_);  \
			t_failed++;                                                \
		}                                                                  \
	} while (0)

/* A copy of data[0..len) ending exactly at an unreadable page. The previous
 * guarded copy is released; one lives at a time. */
static inline const char *t_guarded(const void *data, size_t len)
{
	static char *map;
	static size_t maplen;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	if (map)
		munmap(map, maplen);
	maplen = (len + page - 1) / page * page + page;
	if (maplen == page)
		maplen += page; /* len 0: one readable page before the guard */
	map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		_exit(2);
	}
	mprotect(map + maplen - page, page, PROT_NONE);
	char *start = map + maplen - page - len;
	memcpy(start, data, len);
	return start;
}

static inline int t_done(void)
{
	if (t_planned >= 0 && t_ran != t_planned)
		printf("# planned %d checks, ran %d\n", t_planned, t_ran);
	fflush(stdout);
	return 0;
}

#endif
