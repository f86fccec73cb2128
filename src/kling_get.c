/* kling_get — see kling_get.h. */
#include "kling_get.h"

#include "arena.h"
#include "kling_config.h"
#include "kling.h"
#include "all_limits.h"
#include "kling_parse.h"
#include "log.h"
#include "loop.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A product of the legacy set being asked. */
struct product {
	const char *name;
	int fetching;
	int asked;             /* its answer came, or it is not to be asked */
};

struct kling_get_op {
	kling_get_done_fn done;
	void *ctx;
	enum kling_api be;
	struct kling_call kc;
	struct loop_timer begin;    /* the work starts from the loop */
	struct arena ar;            /* the task and its strings */
	struct kling_task *res;     /* the task found, or NULL */
	struct kling_get_query q;   /* q.id points to id */
	char id[KLING_TASK_ID_MAX + 1];
	struct product prods[CONFIG_MAX_PRODUCTS];
	int nprods;
	int n404;                   /* legacy products skipped because they answered 404 */
	const char *found_product;  /* legacy: where the task was found */
	struct kling_req f[LIMIT_UPSTREAM_PARALLEL];
};

static void *g_spare; /* the last look-up's state, for the next (waits poll) */

static void free_op(struct kling_get_op *c)
{
	kling_req_cancel_all(c->f);
	loop_timer_clear(&c->begin);
	arena_free(&c->ar);
	kling_call_end(&c->kc);
	kling_spare_put(&g_spare, c);
}

/* The look-up is over: hand the task (NULL: no task has the id) or the
 * error to the tool, then release c. From the loop. */
static void finish(struct kling_get_op *c, const char *error)
{
	struct kling_get_result r = {c->be, c->res, c->found_product};
	c->done(c->ctx, error ? NULL : &r, error);
	free_op(c);
}

static void fail(struct kling_get_op *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(struct kling_get_op *c, const char *fmt, ...)
{
	char msg[KLING_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	kling_verrorf(msg, sizeof msg, "look-up", fmt, ap);
	va_end(ap);
	finish(c, msg);
}

/* The task in a reply of product (NULL: the tasks backend's) into *t (NULL
 * when the reply has none). Returns 0, or -1 after failing c. */
static int reply_task(struct kling_get_op *c, const struct kling_reply *rep, const char *product,
		      struct kling_task **t)
{
	int found = 0;
	const char *why = NULL;
	*t = arena_alloc(&c->ar, sizeof **t);
	if (!*t) {
		fail(c, "Out of memory.");
		return -1;
	}
	if (product) {
		if (kling_parse_legacy_get(rep->doc, rep->data, product, &c->ar, *t, &found, &why) != 0) {
			fail(c, "The Kling API's reply for %s was not understood: %s.", product, why);
			return -1;
		}
	} else if (kling_parse_tasks_get(rep->doc, rep->data, c->id, strlen(c->id), c->q.by_external, &c->ar, *t,
					 &found, &why) != 0) {
		fail(c, "The Kling API's reply was not understood: %s.", why);
		return -1;
	}
	if (!found)
		*t = NULL;
	return 0;
}

/* ---- tasks: GET /tasks?task_ids= ---- */

static void tasks_send(struct kling_get_op *c)
{
	struct kling_req *f = &c->f[0];
	f->body_len = 0;
	if (kling_req_path(f, "/tasks?%s=%s", c->q.by_external ? "external_task_ids" : "task_ids", c->id) != 0) {
		fail(c, "The request path is too long.");
		return;
	}
	kling_req_send(f);
}

static void tasks_on_reply(struct kling_get_op *c, const struct kling_reply *rep)
{
	if (rep->error) {
		fail(c, "%s", rep->error);
		return;
	}
	if (reply_task(c, rep, NULL, &c->res) == 0)
		finish(c, NULL);
}

/* ---- legacy: GET /v1/<product>/<id> for each product ---- */

/* Ask the next products (LIMIT_UPSTREAM_PARALLEL at a time); when every one
 * has answered without the task, the look-up is over. */
static void legacy_step(struct kling_get_op *c)
{
	int waiting = 0;
	for (int i = 0; i < c->nprods; i++) {
		struct product *p = &c->prods[i];
		if (p->fetching) {
			waiting = 1;
			continue;
		}
		if (p->asked)
			continue;
		struct kling_req *f = kling_req_idle(c->f);
		if (!f)
			return; /* every slot busy: a reply calls this again */
		f->tag = i;
		f->body_len = 0;
		if (kling_req_path(f, "/v1/%s/%s", p->name, c->id) != 0) {
			fail(c, "The request path for %s is too long.", p->name);
			return;
		}
		p->fetching = 1;
		waiting = 1;
		kling_req_send(f);
	}
	if (waiting)
		return;
	if (c->nprods > 0 && c->n404 == c->nprods) {
		char msg[KLING_ERR_MAX];
		kling_legacy_all_404(msg, sizeof msg, c->n404, c->nprods, c->prods[0].name);
		fail(c, "%s", msg);
	} else {
		finish(c, NULL); /* no product has it */
	}
}

/* One product's answer: the task (the first found wins: the other requests
 * are dropped), or not this product's. */
static void legacy_on_reply(struct kling_get_op *c, struct kling_req *f, const struct kling_reply *rep)
{
	struct product *p = &c->prods[f->tag];
	p->fetching = 0;
	p->asked = 1;
	if (rep->error) {
		if (rep->http_status == 404 && !rep->is_kling) { /* no such product on this host */
			c->n404++;
		} else if (!(rep->is_kling && (rep->code == 1203 || rep->code == 1201))) {
			fail(c, "%s", rep->error);
			return;
		}
		legacy_step(c);
		return;
	}
	struct kling_task *t;
	if (reply_task(c, rep, p->name, &t) != 0)
		return;
	if (!t) {
		legacy_step(c);
		return;
	}
	c->res = t;
	c->found_product = p->name;
	finish(c, NULL); /* free_op cancels the other products' requests */
}

static void on_reply(struct kling_req *f, const struct kling_reply *rep)
{
	struct kling_get_op *c = f->ctx;
	if (c->be == KLING_API_LEGACY)
		legacy_on_reply(c, f, rep);
	else
		tasks_on_reply(c, rep);
}

/* ---- start and cancel ---- */

/* The work, from the loop (a 0 ms timer set by start). */
static void begin(void *arg)
{
	struct kling_get_op *c = arg;
	char err[KLING_ERR_MAX];
	if (kling_call_begin(&c->kc, c->kc.deadline, err, sizeof err) != 0) {
		fail(c, "%s", err);
		return;
	}
	if (c->be == KLING_API_SEED) {
		fail(c, "The seed endpoint (GET /v1/task/list, KLING_BACKEND=seed) has no look-up by id.");
		return;
	}
	if (c->be == KLING_API_TASKS) {
		tasks_send(c);
		return;
	}
	const struct kling_config *cfg = kling_settings();
	for (int i = 0; i < cfg->nproducts; i++) {
		if (c->q.product && strcmp(c->q.product, cfg->products[i]) != 0)
			continue;
		c->prods[c->nprods++].name = cfg->products[i];
	}
	legacy_step(c);
}

struct kling_get_op *kling_get_start(const struct kling_get_query *q, int64_t deadline_ms, kling_get_done_fn done,
				     void *ctx)
{
	struct kling_get_op *c = kling_spare_take(&g_spare, sizeof *c);
	if (!c)
		return NULL;
	c->kc.deadline = deadline_ms;
	c->done = done;
	c->ctx = ctx;
	c->be = kling_config_effective_backend(kling_settings());
	arena_init(&c->ar, LIMIT_CALL_BYTES);
	kling_req_slots(c->f, &c->kc, c->be, on_reply, c);
	size_t n = q->id_len > KLING_TASK_ID_MAX ? KLING_TASK_ID_MAX : q->id_len; /* the tool checked it */
	memcpy(c->id, q->id, n);
	c->id[n] = 0;
	c->q = *q;
	c->q.id = c->id;
	c->q.id_len = n;
	loop_timer_set(&c->begin, loop_now_ms(), begin, c); /* never answer from inside start */
	return c;
}

void kling_get_cancel(struct kling_get_op *op)
{
	free_op(op);
}

void kling_get_shutdown(void)
{
	free(g_spare);
	g_spare = NULL;
}
