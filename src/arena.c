/* arena — see arena.h. */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Chunks of 16 KiB: a page of tasks fits in a few; a larger request gets a
 * chunk of its own size. */
#define ARENA_CHUNK 16384

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, off; /* bytes of data[], bytes used */
	alignas(max_align_t) unsigned char data[];
};

/* Standard chunks freed by arena_free wait here for the next call instead
 * of going back: musl maps each one on its own, so every call used to map,
 * fault in and unmap two of them. At most ARENA_SPARE are kept. */
#define ARENA_SPARE 4
static struct arena_chunk *g_spare;
static int g_nspare;

void arena_init(struct arena *a, size_t max)
{
	a->head = NULL;
	a->used = 0;
	a->max = max;
}

/* A new chunk of size bytes, linked in; NULL when over the maximum. A chunk
 * made for one large request goes behind the head, so the head's free space
 * stays in use for the small requests that follow. */
static struct arena_chunk *new_chunk(struct arena *a, size_t size, int behind)
{
	size_t cost = sizeof(struct arena_chunk) + size;
	if (a->used + cost > a->max)
		return NULL;
	struct arena_chunk *c;
	if (size == ARENA_CHUNK && g_spare) {
		c = g_spare;
		g_spare = c->next;
		g_nspare--;
	} else if (!(c = malloc(cost))) {
		return NULL;
	}
	c->size = size;
	c->off = 0;
	struct arena_chunk **at = behind && a->head ? &a->head->next : &a->head;
	c->next = *at;
	*at = c;
	a->used += cost;
	return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
	const size_t al = alignof(max_align_t);
	if (n > SIZE_MAX / 2)
		return NULL;
	n = (n + al - 1) / al * al;
	struct arena_chunk *c = a->head;
	if (!c || c->size - c->off < n) {
		c = n > ARENA_CHUNK ? new_chunk(a, n, 1) : new_chunk(a, ARENA_CHUNK, 0);
		if (!c)
			return NULL;
	}
	void *p = c->data + c->off;
	c->off += n;
	return p;
}

char *arena_dup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (p) {
		memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

void arena_free(struct arena *a)
{
	while (a->head) {
		struct arena_chunk *c = a->head;
		a->head = c->next;
		if (c->size == ARENA_CHUNK && g_nspare < ARENA_SPARE) {
			c->next = g_spare;
			g_spare = c;
			g_nspare++;
		} else {
			free(c);
		}
	}
	a->used = 0;
}

void arena_trim(void)
{
	while (g_spare) {
		struct arena_chunk *c = g_spare;
		g_spare = c->next;
		free(c);
	}
	g_nspare = 0;
}
