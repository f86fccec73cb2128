/*
 * loop — the one poll() loop: file-descriptor watchers and one-shot timers.
 *
 * Single-threaded. Callbacks run from loop_run_once(); they may add, change or
 * remove any watcher or timer, including their own. Nothing here allocates:
 * watchers live in a fixed table (LIMIT_LOOP_FDS) and timers are caller-owned
 * structs linked into a sorted list.
 */
#ifndef KLING_LOOP_H
#define KLING_LOOP_H

#include <stdint.h>

/* Called with the poll() revents (POLLIN, POLLOUT, POLLERR, POLLHUP, ...). */
typedef void (*loop_io_fn)(void *arg, int fd, short revents);
typedef void (*loop_timer_fn)(void *arg);

/* A timer, owned by the caller; zero-initialize it before first use. */
struct loop_timer {
	int64_t when;               /* loop_now_ms() value at which it fires */
	loop_timer_fn fn;
	void *arg;
	struct loop_timer *next;
	int armed;
};

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t loop_now_ms(void);

/* Watch fd for events (POLLIN and/or POLLOUT); replaces an earlier watch of
 * the same fd. events == 0 keeps the slot but polls nothing. Returns 0, or -1
 * when LIMIT_LOOP_FDS watchers exist already. */
int loop_watch(int fd, short events, loop_io_fn fn, void *arg);

/* Change only the events of an existing watch. Returns 0, or -1 if unknown. */
int loop_set_events(int fd, short events);

/* Stop watching fd (no-op if not watched). Does not close it. */
void loop_unwatch(int fd);

/* Arm t to call fn(arg) once at when_ms (loop_now_ms() scale); re-arming an
 * armed timer moves it. */
void loop_timer_set(struct loop_timer *t, int64_t when_ms, loop_timer_fn fn, void *arg);

/* Disarm t (no-op if not armed). */
void loop_timer_clear(struct loop_timer *t);

/* Wait for at most max_wait_ms (-1 = until something happens), then run the
 * callbacks of ready fds and due timers. Returns 0, or -1 if poll() failed
 * with something other than EINTR. Returns at once with 0 when nothing is
 * watched and no timer is armed and max_wait_ms is -1 (nothing can happen). */
int loop_run_once(int max_wait_ms);

/* Number of fds watched (with any events) and timers armed. */
int loop_pending(void);

#endif
