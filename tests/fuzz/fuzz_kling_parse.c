/*
 * fuzz_kling_parse — a reply body from the Kling API, read the way kling.c
 * reads it: json_parse, kling_parse_envelope, then the data member through each
 * backend's parser (kling_parse_tasks, kling_parse_legacy, kling_parse_seed), and every page
 * that parses through tool_list_tasks_result_check and tool_list_tasks_render, as the tool would send it;
 * and the look-ups' readers (kling_parse_tasks_get, kling_parse_legacy_get).
 *
 * Invariants: the envelope's strings are NUL-terminated within their arrays;
 * a parsed page has only tasks with an id and a status of the seed's
 * vocabulary, at most 16 outputs each with a type; a deep copy
 * (kling_parse_copy_task) is equal; the rendered result is valid JSON whose
 * structuredContent never carries an empty string or an unknown status.
 */
#include "fuzz.h"
#include "json.h"
#include "all_limits.h"
#include "kling_parse.h"
#include "tool_list_tasks.h"

#include <string.h>

static struct json_doc D, OUT;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (json_doc_init(&D, LIMIT_JSON_TOKENS) || json_doc_init(&OUT, LIMIT_JSON_TOKENS))
		abort();
	return 0;
}

static int str_eq(struct kling_str a, struct kling_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void check_str(struct kling_str s)
{
	FUZZ_ASSERT(s.len == 0 || s.ptr != NULL);
}

static void check_task(const struct kling_task *t, struct arena *copy_arena)
{
	FUZZ_ASSERT(t->task_id.len > 0 && t->task_id.ptr);
	FUZZ_ASSERT(kling_task_status_name(t->status) != NULL);
	check_str(t->status_message);
	check_str(t->task_type);
	check_str(t->model_name);
	check_str(t->external_task_id);
	FUZZ_ASSERT(t->created_ms >= 0 && t->updated_ms >= 0);
	FUZZ_ASSERT(t->noutputs <= 16 * 2 && (t->noutputs == 0 || t->outputs));
	for (size_t k = 0; k < t->noutputs; k++) {
		FUZZ_ASSERT(t->outputs[k].type.len > 0);
		check_str(t->outputs[k].url);
		check_str(t->outputs[k].watermark_url);
		check_str(t->outputs[k].duration);
	}
	struct kling_task c;
	if (kling_parse_copy_task(copy_arena, t, &c) != 0)
		return; /* the copy arena is full: allowed */
	FUZZ_ASSERT(str_eq(c.task_id, t->task_id) && str_eq(c.status_message, t->status_message) &&
		    str_eq(c.task_type, t->task_type) && str_eq(c.model_name, t->model_name) &&
		    str_eq(c.external_task_id, t->external_task_id) && c.status == t->status &&
		    c.created_ms == t->created_ms && c.updated_ms == t->updated_ms && c.noutputs == t->noutputs);
	for (size_t k = 0; k < t->noutputs; k++)
		FUZZ_ASSERT(str_eq(c.outputs[k].type, t->outputs[k].type) && str_eq(c.outputs[k].url, t->outputs[k].url) &&
			    str_eq(c.outputs[k].watermark_url, t->outputs[k].watermark_url) &&
			    str_eq(c.outputs[k].duration, t->outputs[k].duration));
}

/* Every string in the structured result is non-empty; statuses are known. */
static void walk_structured(int t)
{
	switch (json_type(&OUT, t)) {
	case JSON_STRING:
		FUZZ_ASSERT(json_strlen(&OUT, t) > 0);
		break;
	case JSON_OBJECT:
		for (int k = json_first(&OUT, t); k >= 0; k = json_next(&OUT, k)) {
			if (json_streq(&OUT, k, "status")) {
				int v = json_value(&OUT, k);
				FUZZ_ASSERT(json_streq(&OUT, v, "submitted") || json_streq(&OUT, v, "processing") ||
					    json_streq(&OUT, v, "succeed") || json_streq(&OUT, v, "failed"));
			}
			walk_structured(json_value(&OUT, k));
		}
		break;
	case JSON_ARRAY:
		for (int e = json_first(&OUT, t); e >= 0; e = json_next(&OUT, e))
			walk_structured(e);
		break;
	default:
		break;
	}
}

static void render(enum kling_api backend, const struct kling_parse_page *p)
{
	struct kling_list_result r = {backend, 1, 100, p->total, p->has_more, p->next_cursor, p->tasks, p->ntasks};
	const char *why = NULL;
	FUZZ_ASSERT(tool_list_tasks_result_check(&r, &why) == 0);
	struct json_w w;
	json_w_init(&w, LIMIT_RESPONSE_BYTES);
	json_w_obj(&w);
	tool_list_tasks_render(&w, &r, 1);
	json_w_obj_end(&w);
	FUZZ_ASSERT(json_w_error(&w) == 0);
	size_t n;
	const char *out = json_w_data(&w, &n);
	FUZZ_ASSERT(json_parse(&OUT, out, n) == 0);
	int sc = json_get(&OUT, 0, "structuredContent");
	FUZZ_ASSERT(json_type(&OUT, sc) == JSON_OBJECT);
	FUZZ_ASSERT(json_count(&OUT, json_get(&OUT, sc, "tasks")) == (int)p->ntasks);
	walk_structured(sc);
	int text = json_get(&OUT, json_first(&OUT, json_get(&OUT, 0, "content")), "text");
	FUZZ_ASSERT(json_type(&OUT, text) == JSON_STRING);
	json_w_free(&w);
}

static void one(const char *backend, int data)
{
	struct arena a, copy;
	arena_init(&a, LIMIT_CALL_BYTES);
	arena_init(&copy, LIMIT_CALL_BYTES);
	struct kling_parse_page p;
	const char *why = NULL;
	int r;
	if (strcmp(backend, "tasks") == 0)
		r = kling_parse_tasks(&D, data, &a, &p, &why);
	else if (strcmp(backend, "legacy") == 0)
		r = kling_parse_legacy(&D, data, "videos/text2video", &a, &p, &why);
	else
		r = kling_parse_seed(&D, data, &a, &p, &why);
	if (r != 0) {
		FUZZ_ASSERT(why && *why);
	} else {
		FUZZ_ASSERT(p.ntasks <= 1000 && (p.ntasks == 0 || p.tasks));
		FUZZ_ASSERT(p.total >= -1);
		check_str(p.next_cursor);
		for (size_t i = 0; i < p.ntasks; i++)
			check_task(&p.tasks[i], &copy);
		render(strcmp(backend, "tasks") == 0 ? KLING_API_TASKS : strcmp(backend, "legacy") == 0 ? KLING_API_LEGACY : KLING_API_SEED, &p);
	}
	arena_free(&copy);
	arena_free(&a);
}

/* The look-ups' readers on data: a found task obeys the same invariants and
 * has the id asked for (tasks); a failure says why. */
static void lookups(int data)
{
	struct arena a, copy;
	arena_init(&a, LIMIT_CALL_BYTES);
	arena_init(&copy, LIMIT_CALL_BYTES);
	struct kling_task t;
	int found = -1;
	const char *why = NULL;
	for (int by_external = 0; by_external < 2; by_external++) {
		found = -1;
		if (kling_parse_tasks_get(&D, data, "a1", 2, by_external, &a, &t, &found, &why) != 0) {
			FUZZ_ASSERT(why && *why);
		} else if (found) {
			FUZZ_ASSERT(found == 1);
			check_task(&t, &copy);
			struct kling_str id = by_external ? t.external_task_id : t.task_id;
			FUZZ_ASSERT(id.len == 2 && memcmp(id.ptr, "a1", 2) == 0);
		}
	}
	found = -1;
	if (kling_parse_legacy_get(&D, data, "images/generations", &a, &t, &found, &why) != 0) {
		FUZZ_ASSERT(why && *why);
	} else {
		FUZZ_ASSERT(found == 0 || found == 1);
		if (found)
			check_task(&t, &copy);
	}
	arena_free(&copy);
	arena_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (json_parse_repair(&D, (const char *)data, size) != 0)
		return 0;
	struct kling_parse_envelope env;
	kling_parse_envelope(&D, &env);
	FUZZ_ASSERT(memchr(env.message, 0, sizeof env.message) && memchr(env.request_id, 0, sizeof env.request_id));
	if (!env.is_kling)
		FUZZ_ASSERT(env.data == -1 && env.message[0] == 0);
	/* each backend's parser on data (kling.c only does it for code 0; any
	 * data is fair game here), and on the top level too */
	int where[2] = {env.data, 0};
	for (int k = 0; k < 2; k++) {
		one("tasks", where[k]);
		one("legacy", where[k]);
		one("seed", where[k]);
		lookups(where[k]);
	}
	FUZZ_ASSERT(kling_parse_ms(-5) == 0 && kling_parse_ms(1) == 1000);
	return 0;
}
