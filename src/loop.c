/* loop — see loop.h. */
#include "loop.h"

#include "all_limits.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <time.h>

struct watch {
	int fd;            /* -1 = free slot */
	short events;
	loop_io_fn fn;
	void *arg;
};

static struct watch g_watch[LIMIT_LOOP_FDS];
static int g_nwatch; /* slots in use at the front of g_watch */
static struct loop_timer *g_timers; /* sorted by when, earliest first */

int64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct watch *find(int fd)
{
	for (int i = 0; i < g_nwatch; i++)
		if (g_watch[i].fd == fd)
			return &g_watch[i];
	return NULL;
}

int loop_watch(int fd, short events, loop_io_fn fn, void *arg)
{
	struct watch *w = find(fd);
	if (!w) {
		if (g_nwatch == LIMIT_LOOP_FDS)
			return -1;
		w = &g_watch[g_nwatch++];
	}
	w->fd = fd;
	w->events = events;
	w->fn = fn;
	w->arg = arg;
	return 0;
}

int loop_set_events(int fd, short events)
{
	struct watch *w = find(fd);
	if (!w)
		return -1;
	w->events = events;
	return 0;
}

void loop_unwatch(int fd)
{
	struct watch *w = find(fd);
	if (w)
		*w = g_watch[--g_nwatch]; /* order of watchers does not matter */
}

void loop_timer_clear(struct loop_timer *t)
{
	if (!t->armed)
		return;
	for (struct loop_timer **p = &g_timers; *p; p = &(*p)->next) {
		if (*p == t) {
			*p = t->next;
			break;
		}
	}
	t->armed = 0;
	t->next = NULL;
}

void loop_timer_set(struct loop_timer *t, int64_t when_ms, loop_timer_fn fn, void *arg)
{
	loop_timer_clear(t);
	t->when = when_ms;
	t->fn = fn;
	t->arg = arg;
	struct loop_timer **p = &g_timers;
	while (*p && (*p)->when <= when_ms)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
	t->armed = 1;
}

int loop_pending(void)
{
	int n = 0;
	for (int i = 0; i < g_nwatch; i++)
		n += g_watch[i].events != 0;
	for (struct loop_timer *t = g_timers; t; t = t->next)
		n++;
	return n;
}

static void run_due_timers(void)
{
	int64_t now = loop_now_ms();
	/* Run at most the timers due when we started, so a callback that re-arms
	 * its timer for "now" cannot keep this loop spinning. */
	int due = 0;
	for (struct loop_timer *t = g_timers; t && t->when <= now; t = t->next)
		due++;
	while (due-- > 0 && g_timers && g_timers->when <= now) {
		struct loop_timer *t = g_timers;
		g_timers = t->next;
		t->next = NULL;
		t->armed = 0;
		t->fn(t->arg);
	}
}

int loop_run_once(int max_wait_ms)
{
	struct pollfd pfd[LIMIT_LOOP_FDS];
	int n = 0;
	for (int i = 0; i < g_nwatch; i++) {
		if (g_watch[i].events == 0)
			continue;
		pfd[n].fd = g_watch[i].fd;
		pfd[n].events = g_watch[i].events;
		pfd[n].revents = 0;
		n++;
	}
	int wait = max_wait_ms;
	if (g_timers) {
		int64_t d = g_timers->when - loop_now_ms();
		if (d < 0)
			d = 0;
		if (wait < 0 || d < wait)
			wait = d > 1000000 ? 1000000 : (int)d;
	}
	if (n == 0 && wait < 0)
		return 0;
	int r = poll(pfd, (nfds_t)n, wait);
	if (r < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n && r > 0; i++) {
		if (!pfd[i].revents)
			continue;
		r--;
		/* The watcher may have been removed or replaced by an earlier
		 * callback of this turn: look it up again, skip if gone. */
		struct watch *w = find(pfd[i].fd);
		if (w && (w->events || (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL))))
			w->fn(w->arg, w->fd, pfd[i].revents);
	}
	run_due_timers();
	return 0;
}
