/* Unit tests of the poll loop: timers in order, re-arming, fd readiness,
 * callbacks that remove watchers. */
#include "loop.h"
#include "t.h"

#include <poll.h>
#include <unistd.h>

static int order[8], norder;
static void mark(void *arg) { order[norder++] = (int)(long)arg; }

static void test_timer_order(void)
{
	struct loop_timer a = {0}, b = {0}, c = {0};
	int64_t now = loop_now_ms();
	norder = 0;
	loop_timer_set(&a, now + 30, mark, (void *)1L);
	loop_timer_set(&b, now + 10, mark, (void *)2L);
	loop_timer_set(&c, now + 20, mark, (void *)3L);
	loop_timer_clear(&c);
	while (loop_pending())
		loop_run_once(-1);
	T_CHECK("loop/timers run earliest first", norder == 2 && order[0] == 2 && order[1] == 1);
	T_CHECK("loop/cleared timer does not run", norder == 2);
	T_CHECK("loop/timer waits its time", loop_now_ms() - now >= 30);
}

static struct loop_timer self;
static int rearms;
static void rearm(void *arg)
{
	(void)arg;
	if (++rearms < 3)
		loop_timer_set(&self, loop_now_ms(), rearm, NULL);
}

static void test_rearm_now(void)
{
	loop_timer_set(&self, loop_now_ms(), rearm, NULL);
	loop_run_once(0);
	T_CHECK("loop/timer re-armed for now runs next turn", rearms == 1);
	while (loop_pending())
		loop_run_once(-1);
	T_CHECK("loop/re-armed timer runs again", rearms == 3);
}

static int reads, other_ran;
static int pipes[2][2];
static void on_read(void *arg, int fd, short revents)
{
	(void)arg;
	char c;
	if (revents & POLLIN && read(fd, &c, 1) == 1)
		reads++;
	/* remove both watchers: the other one must not run this turn */
	loop_unwatch(pipes[0][0]);
	loop_unwatch(pipes[1][0]);
}
static void on_other(void *arg, int fd, short revents)
{
	(void)arg, (void)fd, (void)revents;
	other_ran++;
}

static void test_fds(void)
{
	if (pipe(pipes[0]) || pipe(pipes[1]))
		return;
	T_CHECK("loop/watch", loop_watch(pipes[0][0], POLLIN, on_read, NULL) == 0);
	loop_watch(pipes[1][0], POLLIN, on_other, NULL);
	T_CHECK("loop/set_events unknown fd fails", loop_set_events(9999, POLLIN) == -1);
	(void)!write(pipes[0][1], "x", 1);
	(void)!write(pipes[1][1], "y", 1);
	loop_run_once(1000);
	T_CHECK("loop/readable fd calls back", reads == 1);
	T_CHECK("loop/watcher removed by a callback does not run", other_ran + reads == 1);
	T_CHECK("loop/nothing pending after unwatch", loop_pending() == 0);
	T_CHECK("loop/run with nothing to do returns", loop_run_once(-1) == 0);
}

static void nop(void *arg, int fd, short revents) { (void)arg, (void)fd, (void)revents; }

static void test_table_full(void)
{
	int i, ok = 1;
	for (i = 0; i < 1000; i++)
		if (loop_watch(1000 + i, POLLIN, nop, NULL) != 0)
			break;
	ok = i > 0 && i < 1000;
	for (int j = 0; j < i; j++)
		loop_unwatch(1000 + j);
	T_CHECK("loop/watch table is bounded and says so", ok);
}

int main(void)
{
	t_plan(12);
	test_timer_order();
	test_rearm_now();
	test_fds();
	test_table_full();
	return t_done();
}
