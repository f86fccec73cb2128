/* Unit tests of the reply readers and our cursors: each shape's fields,
 * seconds vs milliseconds, status vocabularies, wrong shapes refused. */
#include "kling_list.h"
#include "kling_parse.h"
#include "t.h"

static struct json_doc doc;

static int parse(const char *text)
{
	const char *g = t_guarded(text, strlen(text));
	return json_parse(&doc, g, strlen(text));
}

static void test_tasks(void)
{
	struct arena a;
	struct kling_parse_page p;
	struct kling_parse_envelope env;
	const char *why = NULL;
	arena_init(&a, 1 << 20);
	T_CHECK("parse/tasks reply is JSON",
		parse("{\"code\":0,\"message\":\"SUCCEED\",\"request_id\":\"r1\",\"data\":{\"result\":[{\"id\":\"a1\","
		      "\"status\":\"succeeded\",\"message\":\"\",\"create_time\":1764380400000,\"update_time\":\"1764380460000\","
		      "\"external_id\":\"e\\u00e9\",\"outputs\":[{\"type\":\"video\",\"url\":\"https://x/v.mp4\","
		      "\"duration\":\"5.1\"},{\"type\":\"audio\",\"mp3_url\":\"https://x/a.mp3\"}]},{\"id\":\"a2\","
		      "\"status\":\"archived\",\"create_time\":1764380400}],\"next_cursor\":\"c2\",\"has_more\":true}}") == 0);
	kling_parse_envelope(&doc, &env);
	T_CHECK("parse/envelope code and request id", env.is_kling && env.code == 0 && strcmp(env.request_id, "r1") == 0);
	T_CHECK("parse/tasks reads", kling_parse_tasks(&doc, env.data, &a, &p, &why) == 0 && p.ntasks == 2);
	T_CHECK("parse/tasks: succeeded becomes succeed", p.tasks[0].status == KLING_SUCCEED);
	T_CHECK("parse/tasks: ms kept, string ms read", p.tasks[0].created_ms == 1764380400000 &&
							  p.tasks[0].updated_ms == 1764380460000);
	T_CHECK("parse/tasks: seconds become ms", p.tasks[1].created_ms == 1764380400000);
	T_CHECK("parse/tasks: unescaped external id", p.tasks[0].external_task_id.len == 3 &&
							  memcmp(p.tasks[0].external_task_id.ptr, "e\xc3\xa9", 3) == 0);
	T_CHECK("parse/tasks: empty message absent", p.tasks[0].status_message.len == 0);
	T_CHECK("parse/tasks: outputs, audio url from mp3_url",
		p.tasks[0].noutputs == 2 && strcmp(p.tasks[0].outputs[1].url.ptr, "https://x/a.mp3") == 0 &&
			strcmp(p.tasks[0].outputs[0].duration.ptr, "5.1") == 0);
	T_CHECK("parse/tasks: unknown status kept as processing with the word",
		p.tasks[1].status == KLING_PROCESSING && strstr(p.tasks[1].status_message.ptr, "archived") != NULL);
	T_CHECK("parse/tasks: cursor and has_more", p.has_more && p.next_cursor.len == 2);
	parse("{\"code\":0,\"data\":{\"result\":{}}}");
	kling_parse_envelope(&doc, &env);
	T_CHECK("parse/tasks: result not an array refused", kling_parse_tasks(&doc, env.data, &a, &p, &why) == -1 &&
							       strstr(why, "result"));
	parse("{\"code\":0,\"data\":{\"result\":[{\"status\":\"failed\"}]}}");
	kling_parse_envelope(&doc, &env);
	T_CHECK("parse/tasks: task without id refused", kling_parse_tasks(&doc, env.data, &a, &p, &why) == -1);
	parse("{\"timestamp\":1,\"status\":404,\"error\":\"Not Found\",\"path\":\"/x\"}");
	kling_parse_envelope(&doc, &env);
	T_CHECK("parse/Spring 404 is not a Kling envelope", !env.is_kling);
	parse("{\"code\":1201,\"message\":\"bad \\\"limit\\\"\",\"request_id\":\"q\"}");
	kling_parse_envelope(&doc, &env);
	T_CHECK("parse/error envelope", env.is_kling && env.code == 1201 && strcmp(env.message, "bad \"limit\"") == 0);
	arena_free(&a);
}

static void test_legacy_seed(void)
{
	struct arena a;
	struct kling_parse_page p;
	struct kling_parse_envelope env;
	const char *why = NULL;
	arena_init(&a, 1 << 20);
	parse("{\"code\":0,\"data\":[{\"task_id\":\"L1\",\"task_status\":\"failed\",\"task_status_msg\":\"no\\nway\","
	      "\"task_info\":{\"external_task_id\":\"x9\"},\"created_at\":1764380400000,\"updated_at\":1764380400001,"
	      "\"task_result\":{\"images\":[{\"index\":0,\"url\":\"https://i/1.png\"},{\"index\":1,\"url\":\"https://i/2.png\"}]}}]}");
	kling_parse_envelope(&doc, &env);
	T_CHECK("parse/legacy reads", kling_parse_legacy(&doc, env.data, "images/generations", &a, &p, &why) == 0 &&
					      p.ntasks == 1);
	T_CHECK("parse/legacy: fields", p.tasks[0].status == KLING_FAILED && strcmp(p.tasks[0].status_message.ptr, "no\nway") == 0 &&
						strcmp(p.tasks[0].external_task_id.ptr, "x9") == 0 &&
						strcmp(p.tasks[0].task_type.ptr, "images/generations") == 0);
	T_CHECK("parse/legacy: images", p.tasks[0].noutputs == 2 && strcmp(p.tasks[0].outputs[1].type.ptr, "image") == 0);
	parse("{\"code\":0,\"data\":{\"total\":137,\"tasks\":[{\"task_id\":\"S1\",\"task_type\":\"text2video\","
	      "\"task_status\":\"succeed\",\"created_at\":1764380400,\"model_name\":\"kling-v2\"}]}}");
	kling_parse_envelope(&doc, &env);
	T_CHECK("parse/seed reads", kling_parse_seed(&doc, env.data, &a, &p, &why) == 0 && p.total == 137 && p.ntasks == 1);
	T_CHECK("parse/seed: seconds, not the year 57422", p.tasks[0].created_ms == 1764380400000);
	T_CHECK("parse/seed: type and model", strcmp(p.tasks[0].task_type.ptr, "text2video") == 0 &&
						   strcmp(p.tasks[0].model_name.ptr, "kling-v2") == 0);
	parse("{\"code\":0,\"data\":{\"total\":0,\"tasks\":null}}");
	kling_parse_envelope(&doc, &env);
	T_CHECK("parse/seed: null tasks is empty", kling_parse_seed(&doc, env.data, &a, &p, &why) == 0 && p.ntasks == 0);
	arena_free(&a);
}

static void test_cursor(void)
{
	struct kcursor k = {'t', 3, 25, KLING_FAILED, KLING_IMAGE, 1000, -1, "ab.c", 4}, r;
	char buf[256];
	int n = kling_list_cursor_format(&k, buf, sizeof buf);
	T_STREQ("cursor/format", buf, "t1.3.25.4.2.1000.-.ab.c");
	T_CHECK("cursor/round trip", n > 0 && kling_list_cursor_parse(buf, (size_t)n, &r) == 0 && r.page == 3 &&
					     r.page_size == 25 && r.status == KLING_FAILED && r.product == KLING_IMAGE &&
					     r.start_ms == 1000 && r.end_ms == -1 && r.upstream_len == 4 &&
					     memcmp(r.upstream, "ab.c", 4) == 0);
	static const char *const bad[] = {"", "t1", "x1.1.1.0.0.-.-.a", "t1.0.10.0.0.-.-.a", "t1.1.101.0.0.-.-.a",
					  "t1.1.10.5.0.-.-.a", "t1.1.10.0.4.-.-.a", "t1.1.10.0.0.-.-.", "l1.1.10.0.0.-.-.x",
					  "t1.01.10.0.0.-.-.a", "t1.1.10.0.0.-1.-.a", "t2.1.10.0.0.-.-.a", "l1.1.10"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char name[96];
		snprintf(name, sizeof name, "cursor/refused \"%s\"", bad[i]);
		const char *g = t_guarded(bad[i], strlen(bad[i]));
		T_CHECK(name, kling_list_cursor_parse(g, strlen(bad[i]), &r) == -1);
	}
	T_CHECK("cursor/too small a buffer", kling_list_cursor_format(&k, buf, 10) == -1);
	/* the tool only checks that cursor is a string: the content is checked here */
	T_CHECK("cursor/a control character in Kling's part refused", kling_list_cursor_parse("t1.1.10.0.0.-.-.a\nb", 19, &r) == -1);
	T_CHECK("cursor/DEL refused", kling_list_cursor_parse("l1.1.10.0.0.-.-.\x7f", 17, &r) == -1);
}

/* The look-ups' replies: one task, found by id or external id, or none. */
static void test_lookups(void)
{
	struct arena a;
	struct kling_parse_envelope env;
	struct kling_task t;
	int found = -1;
	const char *why = NULL;
	arena_init(&a, 1 << 20);
	T_CHECK("get/tasks reply is JSON",
		parse("{\"code\":0,\"data\":[{\"id\":\"x9\",\"status\":\"processing\",\"external_id\":\"e-1\"},"
		      "{\"id\":\"a1\",\"status\":\"succeeded\",\"external_id\":\"e-2\",\"outputs\":[{\"type\":"
		      "\"video\",\"url\":\"https://x/v.mp4\"}]}]}") == 0);
	kling_parse_envelope(&doc, &env);
	T_CHECK("get/tasks: the task with the id, not the first one",
		kling_parse_tasks_get(&doc, env.data, "a1", 2, 0, &a, &t, &found, &why) == 0 && found == 1 &&
			t.status == KLING_SUCCEED && t.noutputs == 1 && strcmp(t.task_id.ptr, "a1") == 0);
	T_CHECK("get/tasks: by external id", kling_parse_tasks_get(&doc, env.data, "e-1", 3, 1, &a, &t, &found, &why) == 0 &&
						     found == 1 && strcmp(t.task_id.ptr, "x9") == 0);
	T_CHECK("get/tasks: an id that is only an external id is not found by id",
		kling_parse_tasks_get(&doc, env.data, "e-1", 3, 0, &a, &t, &found, &why) == 0 && found == 0 &&
			t.task_id.len == 0);
	T_CHECK("get/tasks: a prefix of an id is not the id",
		kling_parse_tasks_get(&doc, env.data, "a", 1, 0, &a, &t, &found, &why) == 0 && found == 0);
	parse("{\"code\":0,\"data\":[]}");
	kling_parse_envelope(&doc, &env);
	T_CHECK("get/tasks: empty data is not found, not an error",
		kling_parse_tasks_get(&doc, env.data, "a1", 2, 0, &a, &t, &found, &why) == 0 && found == 0);
	parse("{\"code\":0,\"data\":{\"result\":[{\"id\":\"a1\",\"status\":\"failed\",\"message\":\"m\"}]}}");
	kling_parse_envelope(&doc, &env);
	T_CHECK("get/tasks: data.result is read too", kling_parse_tasks_get(&doc, env.data, "a1", 2, 0, &a, &t, &found,
									    &why) == 0 &&
							   found == 1 && t.status == KLING_FAILED &&
							   strcmp(t.status_message.ptr, "m") == 0);
	parse("{\"code\":0,\"data\":\"a1\"}");
	kling_parse_envelope(&doc, &env);
	T_CHECK("get/tasks: data of the wrong type is an error naming it",
		kling_parse_tasks_get(&doc, env.data, "a1", 2, 0, &a, &t, &found, &why) == -1 && why && strstr(why, "data"));

	parse("{\"code\":0,\"data\":{\"task_id\":\"L1\",\"task_status\":\"succeed\",\"created_at\":1764380400000,"
	      "\"task_info\":{\"external_task_id\":\"mine\"},\"task_result\":{\"images\":[{\"index\":0,\"url\":"
	      "\"https://x/0.png\"},{\"index\":1,\"url\":\"https://x/1.png\"}]}}}");
	kling_parse_envelope(&doc, &env);
	T_CHECK("get/legacy: the item, its product as its type",
		kling_parse_legacy_get(&doc, env.data, "images/generations", &a, &t, &found, &why) == 0 && found == 1 &&
			strcmp(t.task_id.ptr, "L1") == 0 && strcmp(t.task_type.ptr, "images/generations") == 0 &&
			t.noutputs == 2 && strcmp(t.external_task_id.ptr, "mine") == 0);
	static const char *const empty[] = {"{\"code\":0,\"data\":null}", "{\"code\":0,\"data\":{}}",
					    "{\"code\":0,\"data\":[]}", "{\"code\":0}"};
	for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) {
		parse(empty[i]);
		kling_parse_envelope(&doc, &env);
		found = -1;
		T_CHECK("get/legacy: null, {}, [] or no data: not found",
			kling_parse_legacy_get(&doc, env.data, "videos/text2video", &a, &t, &found, &why) == 0 && found == 0);
	}
	parse("{\"code\":0,\"data\":[{\"task_id\":\"L1\"}]}");
	kling_parse_envelope(&doc, &env);
	T_CHECK("get/legacy: a list where one item belongs is an error",
		kling_parse_legacy_get(&doc, env.data, "videos/text2video", &a, &t, &found, &why) == -1);
	parse("{\"code\":0,\"data\":{\"task_status\":\"succeed\"}}");
	kling_parse_envelope(&doc, &env);
	T_CHECK("get/legacy: an item without task_id is an error",
		kling_parse_legacy_get(&doc, env.data, "videos/text2video", &a, &t, &found, &why) == -1 && why);
	arena_free(&a);
}

int main(void)
{
	t_plan(55);
	json_doc_init(&doc, 4096);
	test_tasks();
	test_lookups();
	test_legacy_seed();
	test_cursor();
	json_doc_free(&doc);
	return t_done();
}
