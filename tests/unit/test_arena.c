/* Unit tests of the per-call arena: alignment, copies, the bound. */
#include "arena.h"
#include "t.h"

#include <stdalign.h>
#include <stdint.h>

int main(void)
{
	t_plan(9);
	struct arena a;
	arena_init(&a, 64 * 1024);
	char *s = arena_dup(&a, "h\0llo", 5);
	T_CHECK("arena/dup copies bytes and adds a NUL", s && memcmp(s, "h\0llo", 5) == 0 && s[5] == 0);
	void *p = arena_alloc(&a, 3), *q = arena_alloc(&a, 8);
	T_CHECK("arena/allocations are aligned", ((uintptr_t)p | (uintptr_t)q) % alignof(max_align_t) == 0);
	T_CHECK("arena/allocations do not overlap", (char *)q >= (char *)p + 3);
	void *big = arena_alloc(&a, 40000);
	T_CHECK("arena/a request larger than a chunk gets its own", big != NULL);
	T_CHECK("arena/over the maximum fails", arena_alloc(&a, 60000) == NULL);
	T_CHECK("arena/absurd size fails", arena_alloc(&a, SIZE_MAX - 4) == NULL);
	T_CHECK("arena/still usable after a failure", arena_alloc(&a, 16) != NULL);
	arena_free(&a);
	T_CHECK("arena/free empties it", a.used == 0 && a.head == NULL);
	T_CHECK("arena/usable after free", arena_alloc(&a, 10) != NULL);
	arena_free(&a);
	return t_done();
}
