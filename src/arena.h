/*
 * arena — a bump allocator for the memory of one tool call (the tasks of a
 * result and their strings). Everything is freed at once with arena_free();
 * nothing is freed one by one. Bounded: an allocation that would take the
 * arena past its maximum fails, so a hostile upstream reply cannot grow a
 * call's memory without limit.
 */
#ifndef KLING_ARENA_H
#define KLING_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head; /* newest chunk first */
	size_t used;              /* bytes handed out plus chunk headers */
	size_t max;               /* most bytes the arena may hold */
};

/* An empty arena that will hold at most max bytes. Allocates nothing. */
void arena_init(struct arena *a, size_t max);

/* n bytes aligned for any type, or NULL when out of memory or over the
 * arena's maximum. Valid until arena_free(). */
void *arena_alloc(struct arena *a, size_t n);

/* A NUL-terminated copy of s[0..n), or NULL as arena_alloc. */
char *arena_dup(struct arena *a, const char *s, size_t n);

/* Free every chunk; the arena is empty again (same maximum). A few chunks
 * of the standard size are kept for the next arena (see arena_trim). */
void arena_free(struct arena *a);

/* Give back the chunks arena_free kept (at exit, so nothing stays). */
void arena_trim(void);

#endif
