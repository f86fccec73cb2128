/* Unit tests of the bounded growable buffer: growth, the maximum, size_t
 * overflow, and that a failed reserve keeps what the buffer holds. */
#include "buf.h"
#include "t.h"

#include <stdint.h>

/* Under AddressSanitizer (make SANITIZE=1) an absurd allocation returns NULL,
 * as it does without it, instead of aborting: out of memory is tested. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

int main(void)
{
	t_plan(12);
	struct buf b;
	buf_init(&b, 100);
	T_CHECK("buf/init allocates nothing", b.p == NULL && b.len == 0 && b.cap == 0 && b.max == 100);
	T_CHECK("buf/append copies", buf_append(&b, "hello", 5) == 0 && b.len == 5 && memcmp(b.p, "hello", 5) == 0);
	T_CHECK("buf/capacity never passes max", b.cap <= 100 && b.cap >= 5);
	char big[95];
	memset(big, 'x', sizeof big);
	T_CHECK("buf/exactly max fits", buf_append(&b, big, sizeof big) == 0 && b.len == 100 && b.cap == 100);
	char *before = b.p;
	T_CHECK("buf/one byte over max fails", buf_append(&b, "!", 1) == BUF_E_MAX);
	T_CHECK("buf/a failed reserve keeps the content", b.p == before && b.len == 100 &&
								 memcmp(b.p, "hello", 5) == 0 && b.p[99] == 'x');
	T_CHECK("buf/reserve of 0 at max succeeds", buf_reserve(&b, 0) == 0);
	b.len = 10; /* the owner may drop bytes */
	T_CHECK("buf/size_t overflow refused", buf_reserve(&b, SIZE_MAX - 5) == BUF_E_MAX && b.len == 10 &&
						       memcmp(b.p, "hello", 5) == 0);
	buf_free(&b);
	T_CHECK("buf/free empties it, same max", b.p == NULL && b.len == 0 && b.cap == 0 && b.max == 100);

	struct buf g;
	buf_init(&g, SIZE_MAX);
	size_t grows = 0, cap = 0;
	int ok = 1;
	for (int i = 0; i < 100000 && ok; i++) {
		ok = buf_append(&g, "0123456789", 10) == 0;
		if (g.cap != cap) {
			grows++;
			cap = g.cap;
		}
	}
	T_CHECK("buf/growth doubles (few reallocations for 1 MB)", ok && g.len == 1000000 && grows <= 12);
	T_CHECK("buf/an unbounded buffer refuses an absurd size", buf_reserve(&g, SIZE_MAX - 1) == BUF_E_MAX &&
									  g.len == 1000000);
	buf_free(&g);

	struct buf h;
	buf_init(&h, SIZE_MAX);
	int r = buf_reserve(&h, SIZE_MAX / 2);
	T_CHECK("buf/out of memory is BUF_E_NOMEM, nothing lost", r == BUF_E_NOMEM && h.p == NULL && h.cap == 0);
	buf_free(&h);
	return t_done();
}
