/* kling_parse — see kling_parse.h. */
#include "kling_parse.h"

#include "log.h"

#include <stdio.h>
#include <string.h>

/* Most tasks read from one reply: the API's largest page is 500. A longer
 * array is refused as not a Kling reply rather than filling memory. */
#define KPARSE_MAX_TASKS 1000
/* Most outputs kept per task (a task has 1-4 in practice). */
#define KPARSE_MAX_OUTPUTS 16

int64_t kling_parse_ms(int64_t v)
{
	if (v <= 0)
		return 0;
	if (v >= INT64_C(100000000000))
		return v;
	return v * 1000;
}

enum kling_status kling_parse_status(const char *s, size_t n)
{
	static const struct {
		const char *word;
		enum kling_status st;
	} words[] = {{"submitted", KLING_SUBMITTED}, {"processing", KLING_PROCESSING}, {"succeed", KLING_SUCCEED},
		     {"succeeded", KLING_SUCCEED}, {"failed", KLING_FAILED}};
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (strlen(words[i].word) == n && memcmp(words[i].word, s, n) == 0)
			return words[i].st;
	return KLING_STATUS_NONE;
}

/* String or number member `key` of obj as an arena string; absent, null,
 * empty and other types give {NULL, 0}. -1 only when out of memory. */
static int get_str(const struct json_doc *d, int obj, const char *key, struct arena *a, struct kling_str *out)
{
	int t = json_get(d, obj, key);
	out->ptr = NULL;
	out->len = 0;
	if (json_type(d, t) == JSON_NUMBER) {
		size_t n;
		const char *raw = json_raw(d, t, &n);
		out->ptr = arena_dup(a, raw, n);
		out->len = n;
		return out->ptr ? 0 : -1;
	}
	if (json_type(d, t) != JSON_STRING)
		return 0;
	size_t n = json_strlen(d, t);
	if (n == 0)
		return 0;
	char *p = arena_alloc(a, n + 1);
	if (!p || json_unescape(d, t, p, n + 1, &out->len) != 0)
		return -1;
	log_redact_whole(p, out->len); /* an upstream may echo a credential in any string */
	out->ptr = p;
	return 0;
}

/* Integer member `key` (a number or a string of digits); 0 when absent or
 * unreadable. */
static int64_t get_int(const struct json_doc *d, int obj, const char *key)
{
	int t = json_get(d, obj, key);
	int64_t v = 0;
	if (json_type(d, t) == JSON_NUMBER) {
		if (json_int(d, t, &v) != 0)
			return 0;
		return v;
	}
	size_t n;
	const char *s = json_str_raw(d, t, &n);
	if (!s || n == 0 || n > 18)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static enum kling_status get_status(const struct json_doc *d, int obj, const char *key)
{
	size_t n;
	const char *s = json_str_raw(d, json_get(d, obj, key), &n);
	return s ? kling_parse_status(s, n) : KLING_STATUS_NONE;
}

/* An array member's element count, bounded; -1 when it is not an array. */
static int array_len(const struct json_doc *d, int t, int max)
{
	if (json_type(d, t) != JSON_ARRAY)
		return -1;
	int n = json_count(d, t);
	return n > max ? max : n;
}

/* Status: known words map to the seed's vocabulary; an unknown word is kept
 * as processing with the word in the message, so a new status on the service
 * side does not break listing. Returns -1 when out of memory. */
static int fix_status(struct kling_task *t, enum kling_status st, const struct json_doc *d, int obj, const char *key,
		      struct arena *a)
{
	if (st != KLING_STATUS_NONE) {
		t->status = st;
		return 0;
	}
	t->status = KLING_PROCESSING;
	if (t->status_message.len)
		return 0;
	struct kling_str w;
	if (get_str(d, obj, key, a, &w) != 0)
		return -1;
	static const char pre[] = "status reported as: ";
	char *m = arena_alloc(a, sizeof pre + w.len);
	if (!m)
		return -1;
	memcpy(m, pre, sizeof pre - 1);
	if (w.len)
		memcpy(m + sizeof pre - 1, w.ptr, w.len);
	m[sizeof pre - 1 + w.len] = 0;
	t->status_message.ptr = m;
	t->status_message.len = sizeof pre - 1 + w.len;
	return 0;
}

/* ---- POST /tasks ---- */

static int tasks_output(const struct json_doc *d, int o, struct arena *a, struct kling_output *out)
{
	memset(out, 0, sizeof *out);
	if (get_str(d, o, "type", a, &out->type) || get_str(d, o, "url", a, &out->url) ||
	    get_str(d, o, "watermark_url", a, &out->watermark_url) || get_str(d, o, "duration", a, &out->duration))
		return -1;
	if (!out->url.len && (get_str(d, o, "mp3_url", a, &out->url) ||
			      (!out->url.len && get_str(d, o, "wav_url", a, &out->url))))
		return -1;
	if (!out->type.len) {
		out->type.ptr = "file";
		out->type.len = 4;
	}
	return 0;
}

static int tasks_item(const struct json_doc *d, int it, struct arena *a, struct kling_task *t, const char **why)
{
	memset(t, 0, sizeof *t);
	if (json_type(d, it) != JSON_OBJECT)
		return *why = "a task in data.result is not an object", -1;
	if (get_str(d, it, "id", a, &t->task_id) || get_str(d, it, "message", a, &t->status_message) ||
	    get_str(d, it, "external_id", a, &t->external_task_id) || get_str(d, it, "model_name", a, &t->model_name))
		return *why = "out of memory", -1;
	if (!t->task_id.len)
		return *why = "a task in data.result has no id", -1;
	if (get_str(d, it, "task_type", a, &t->task_type) ||
	    (!t->task_type.len && get_str(d, it, "product_type", a, &t->task_type)))
		return *why = "out of memory", -1;
	if (fix_status(t, get_status(d, it, "status"), d, it, "status", a))
		return *why = "out of memory", -1;
	t->created_ms = kling_parse_ms(get_int(d, it, "create_time"));
	t->updated_ms = kling_parse_ms(get_int(d, it, "update_time"));
	int outs = json_get(d, it, "outputs");
	int n = array_len(d, outs, KPARSE_MAX_OUTPUTS);
	if (n <= 0)
		return 0;
	struct kling_output *o = arena_alloc(a, (size_t)n * sizeof *o);
	if (!o)
		return *why = "out of memory", -1;
	size_t k = 0;
	for (int e = json_first(d, outs); e >= 0 && k < (size_t)n; e = json_next(d, e))
		if (json_type(d, e) == JSON_OBJECT && tasks_output(d, e, a, &o[k++]) != 0)
			return *why = "out of memory", -1;
	t->outputs = o;
	t->noutputs = k;
	return 0;
}

int kling_parse_tasks(const struct json_doc *d, int data, struct arena *a, struct kling_parse_page *p, const char **why)
{
	memset(p, 0, sizeof *p);
	p->total = -1;
	if (json_type(d, data) != JSON_OBJECT)
		return *why = "data is not an object", -1;
	int res = json_get(d, data, "result");
	int n = array_len(d, res, KPARSE_MAX_TASKS + 1);
	if (n < 0)
		return *why = "data.result is not an array", -1;
	if (n > KPARSE_MAX_TASKS)
		return *why = "data.result holds more than 1000 tasks", -1;
	p->tasks = arena_alloc(a, (size_t)(n ? n : 1) * sizeof *p->tasks);
	if (!p->tasks)
		return *why = "out of memory", -1;
	for (int e = json_first(d, res); e >= 0; e = json_next(d, e))
		if (tasks_item(d, e, a, &p->tasks[p->ntasks++], why) != 0)
			return -1;
	p->has_more = json_type(d, json_get(d, data, "has_more")) == JSON_TRUE;
	if (get_str(d, data, "next_cursor", a, &p->next_cursor))
		return *why = "out of memory", -1;
	return 0;
}

/* ---- GET /v1/<product> ---- */

static int legacy_outputs(const struct json_doc *d, int res, const char *key, const char *type, struct arena *a,
			  struct kling_output *o, size_t *k, size_t max)
{
	int arr = json_get(d, res, key);
	for (int e = json_first(d, arr); e >= 0 && *k < max; e = json_next(d, e)) {
		if (json_type(d, e) != JSON_OBJECT)
			continue;
		struct kling_output *out = &o[(*k)++];
		memset(out, 0, sizeof *out);
		out->type.ptr = type;
		out->type.len = strlen(type);
		if (get_str(d, e, "url", a, &out->url) || get_str(d, e, "watermark_url", a, &out->watermark_url) ||
		    get_str(d, e, "duration", a, &out->duration))
			return -1;
	}
	return 0;
}

static int legacy_item(const struct json_doc *d, int it, const char *product, struct arena *a, struct kling_task *t,
		       const char **why)
{
	memset(t, 0, sizeof *t);
	if (json_type(d, it) != JSON_OBJECT)
		return *why = "an item of data is not an object", -1;
	if (get_str(d, it, "task_id", a, &t->task_id) || get_str(d, it, "task_status_msg", a, &t->status_message) ||
	    get_str(d, it, "model_name", a, &t->model_name) ||
	    get_str(d, json_get(d, it, "task_info"), "external_task_id", a, &t->external_task_id))
		return *why = "out of memory", -1;
	if (!t->task_id.len)
		return *why = "an item of data has no task_id", -1;
	if (product) {
		t->task_type.ptr = product;
		t->task_type.len = strlen(product);
	}
	if (fix_status(t, get_status(d, it, "task_status"), d, it, "task_status", a))
		return *why = "out of memory", -1;
	t->created_ms = kling_parse_ms(get_int(d, it, "created_at"));
	t->updated_ms = kling_parse_ms(get_int(d, it, "updated_at"));
	int res = json_get(d, it, "task_result");
	int nv = array_len(d, json_get(d, res, "videos"), KPARSE_MAX_OUTPUTS);
	int ni = array_len(d, json_get(d, res, "images"), KPARSE_MAX_OUTPUTS);
	size_t max = (size_t)(nv > 0 ? nv : 0) + (size_t)(ni > 0 ? ni : 0), k = 0;
	if (max == 0)
		return 0;
	struct kling_output *o = arena_alloc(a, max * sizeof *o);
	if (!o || legacy_outputs(d, res, "videos", "video", a, o, &k, max) ||
	    legacy_outputs(d, res, "images", "image", a, o, &k, max))
		return *why = "out of memory", -1;
	t->outputs = o;
	t->noutputs = k;
	return 0;
}

int kling_parse_legacy(const struct json_doc *d, int data, const char *product, struct arena *a, struct kling_parse_page *p,
		  const char **why)
{
	memset(p, 0, sizeof *p);
	p->total = -1;
	int n = array_len(d, data, KPARSE_MAX_TASKS + 1);
	if (n < 0)
		return *why = "data is not an array", -1;
	if (n > KPARSE_MAX_TASKS)
		return *why = "data holds more than 1000 tasks", -1;
	p->tasks = arena_alloc(a, (size_t)(n ? n : 1) * sizeof *p->tasks);
	if (!p->tasks)
		return *why = "out of memory", -1;
	for (int e = json_first(d, data); e >= 0; e = json_next(d, e))
		if (legacy_item(d, e, product, a, &p->tasks[p->ntasks++], why) != 0)
			return -1;
	return 0;
}

/* ---- look-ups: one task ---- */

/* Whether string s of task t equals id[0..n). */
static int same(struct kling_str s, const char *id, size_t n)
{
	return s.len == n && memcmp(s.ptr, id, n) == 0;
}

int kling_parse_tasks_get(const struct json_doc *d, int data, const char *id, size_t n, int by_external, struct arena *a,
		     struct kling_task *t, int *found, const char **why)
{
	*found = 0;
	int arr = json_type(d, data) == JSON_OBJECT ? json_get(d, data, "result") : data;
	if (json_type(d, data) == JSON_NULL)
		return 0;
	if (json_type(d, arr) != JSON_ARRAY)
		return *why = "data is not an array of tasks", -1;
	for (int e = json_first(d, arr); e >= 0; e = json_next(d, e)) {
		if (tasks_item(d, e, a, t, why) != 0)
			return -1;
		if (same(by_external ? t->external_task_id : t->task_id, id, n)) {
			*found = 1;
			return 0;
		}
	}
	memset(t, 0, sizeof *t);
	return 0;
}

int kling_parse_legacy_get(const struct json_doc *d, int data, const char *product, struct arena *a,
		      struct kling_task *t, int *found, const char **why)
{
	*found = 0;
	memset(t, 0, sizeof *t);
	enum json_type ty = json_type(d, data);
	if (ty == JSON_NONE || ty == JSON_NULL || (ty == JSON_ARRAY && json_count(d, data) == 0) ||
	    (ty == JSON_OBJECT && json_count(d, data) == 0))
		return 0; /* some hosts answer an unknown id with empty data */
	if (ty != JSON_OBJECT)
		return *why = "data is not a task object", -1;
	if (legacy_item(d, data, product, a, t, why) != 0)
		return -1;
	*found = 1;
	return 0;
}

/* ---- GET /v1/task/list ---- */

static int seed_item(const struct json_doc *d, int it, struct arena *a, struct kling_task *t, const char **why)
{
	if (legacy_item(d, it, NULL, a, t, why) != 0)
		return -1;
	if (get_str(d, it, "task_type", a, &t->task_type))
		return *why = "out of memory", -1;
	return 0;
}

int kling_parse_seed(const struct json_doc *d, int data, struct arena *a, struct kling_parse_page *p, const char **why)
{
	memset(p, 0, sizeof *p);
	if (json_type(d, data) != JSON_OBJECT)
		return *why = "data is not an object", -1;
	int tasks = json_get(d, data, "tasks");
	int n = json_type(d, tasks) == JSON_NULL ? 0 : array_len(d, tasks, KPARSE_MAX_TASKS + 1);
	if (n < 0)
		return *why = "data.tasks is not an array", -1;
	if (n > KPARSE_MAX_TASKS)
		return *why = "data.tasks holds more than 1000 tasks", -1;
	int tt = json_get(d, data, "total");
	int64_t tv; /* a total outside int64 (1e30) or not whole is unknown, not 0 */
	p->total = json_type(d, tt) == JSON_NUMBER && json_int(d, tt, &tv) == 0 && tv >= 0 ? tv : -1;
	p->tasks = arena_alloc(a, (size_t)(n ? n : 1) * sizeof *p->tasks);
	if (!p->tasks)
		return *why = "out of memory", -1;
	for (int e = json_first(d, tasks); e >= 0; e = json_next(d, e))
		if (seed_item(d, e, a, &p->tasks[p->ntasks++], why) != 0)
			return -1;
	return 0;
}

/* ---- envelope ---- */

static void copy_cut(const struct json_doc *d, int t, char *out, size_t cap)
{
	out[0] = 0;
	size_t n;
	if (json_type(d, t) != JSON_STRING)
		return;
	n = json_strlen(d, t);
	if (n < cap) {
		json_unescape(d, t, out, cap, NULL);
		return;
	}
	/* too long: keep a prefix that ends on a UTF-8 character boundary */
	char tmp[4096];
	if (n < sizeof tmp && json_unescape(d, t, tmp, sizeof tmp, NULL) == 0) {
		size_t k = cap - 4;
		while (k > 0 && ((unsigned char)tmp[k] & 0xC0) == 0x80)
			k--;
		memcpy(out, tmp, k);
		memcpy(out + k, "...", 4);
	} else {
		snprintf(out, cap, "(message of %zu bytes)", n);
	}
}

void kling_parse_envelope(const struct json_doc *d, struct kling_parse_envelope *env)
{
	memset(env, 0, sizeof *env);
	env->data = -1;
	int code = json_get(d, 0, "code");
	if (json_type(d, code) != JSON_NUMBER || json_int(d, code, &env->code) != 0)
		return;
	env->is_kling = 1;
	copy_cut(d, json_get(d, 0, "message"), env->message, sizeof env->message);
	copy_cut(d, json_get(d, 0, "request_id"), env->request_id, sizeof env->request_id);
	env->data = json_get(d, 0, "data");
}

/* ---- copying ---- */

static int dup_str(struct arena *a, struct kling_str *s)
{
	if (!s->len)
		return 0;
	char *p = arena_dup(a, s->ptr, s->len);
	if (!p)
		return -1;
	s->ptr = p;
	return 0;
}

int kling_parse_copy_task(struct arena *a, const struct kling_task *t, struct kling_task *out)
{
	*out = *t;
	if (dup_str(a, &out->task_id) || dup_str(a, &out->status_message) || dup_str(a, &out->task_type) ||
	    dup_str(a, &out->model_name) || dup_str(a, &out->external_task_id))
		return -1;
	if (!t->noutputs)
		return 0;
	struct kling_output *o = arena_alloc(a, t->noutputs * sizeof *o);
	if (!o)
		return -1;
	for (size_t i = 0; i < t->noutputs; i++) {
		o[i] = t->outputs[i];
		if (dup_str(a, &o[i].type) || dup_str(a, &o[i].url) || dup_str(a, &o[i].watermark_url) ||
		    dup_str(a, &o[i].duration))
			return -1;
	}
	out->outputs = o;
	return 0;
}
