/* Unit tests of the get_task tool: argument validation (through the tool's
 * prepare: what is refused names the argument, and the configuration
 * checks), the resource links' names and MIME types, and the Type both
 * tools show (task_render). */
#include "kling_config.h"
#include "kling.h"
#include "mcp.h"
#include "t.h"
#include "t_tool.h"
#include "tools_render.h"
#include "tool_get_task.h"

static struct json_doc D;
static struct kling_config CFG;

static int prep(const char *args_json) { return t_prepare(&gt_tool, &D, args_json); }

static int refused_naming(const char *args, const char *a, const char *b)
{
	return prep(args) == -1 && strstr(ERR, a) && (!b || strstr(ERR, b));
}

static void test_arguments(void)
{
	T_CHECK("gt/args: task_id alone", prep("{\"task_id\":\"860147283926614089\"}") == 0);
	T_CHECK("gt/args: external_task_id alone, with a wait",
		prep("{\"external_task_id\":\"my-job_1.a:b\",\"wait_seconds\":300}") == 0);
	T_CHECK("gt/args: wait_seconds 0 and nulls",
		prep("{\"task_id\":\"1\",\"external_task_id\":null,\"wait_seconds\":0}") == 0);
	T_CHECK("gt/args: wait 2.0 counts as the integer 2",
		prep("{\"task_id\":\"1\",\"wait_seconds\":2.0}") == 0);
	T_CHECK(
	    "gt/args: both ids refused naming both",
	    refused_naming("{\"task_id\":\"1\",\"external_task_id\":\"2\"}", "task_id", "external_task_id"));
	T_CHECK("gt/args: neither refused naming both", refused_naming("{}", "task_id", "external_task_id"));
	T_CHECK("gt/args: no arguments at all refused", refused_naming("", "task_id", "external_task_id"));
	T_CHECK("gt/args: null ids are not given",
		refused_naming("{\"task_id\":null}", "task_id", "external_task_id"));
	T_CHECK("gt/args: wait 301",
		refused_naming("{\"task_id\":\"1\",\"wait_seconds\":301}", "wait_seconds", "300"));
	T_CHECK("gt/args: wait -1",
		refused_naming("{\"task_id\":\"1\",\"wait_seconds\":-1}", "wait_seconds", NULL));
	T_CHECK("gt/args: wait 1.5",
		refused_naming("{\"task_id\":\"1\",\"wait_seconds\":1.5}", "wait_seconds", NULL));
	T_CHECK("gt/args: wait as a string",
		refused_naming("{\"task_id\":\"1\",\"wait_seconds\":\"5\"}", "wait_seconds", NULL));
	T_CHECK("gt/args: empty task_id", refused_naming("{\"task_id\":\"\"}", "task_id", NULL));
	T_CHECK("gt/args: a number as task_id", refused_naming("{\"task_id\":123}", "task_id", NULL));
	T_CHECK("gt/args: a slash in task_id",
		refused_naming("{\"task_id\":\"1/../x\"}", "task_id", "letters"));
	T_CHECK("gt/args: a comma in external_task_id",
		refused_naming("{\"external_task_id\":\"a,b\"}", "external_task_id", "letters"));
	T_CHECK("gt/args: an escaped control character in task_id",
		refused_naming("{\"task_id\":\"a\\u0000b\"}", "task_id", NULL));
	char big[400];
	snprintf(big, sizeof big, "{\"task_id\":\"%0129d\"}", 7);
	T_CHECK("gt/args: 129 characters", refused_naming(big, "task_id", "128"));
	snprintf(big, sizeof big, "{\"task_id\":\"%0128d\"}", 7);
	T_CHECK("gt/args: 128 characters accepted", prep(big) == 0);
	T_CHECK("gt/args: an unknown argument named",
		refused_naming("{\"task_id\":\"1\",\"wait\":5}", "wait", NULL));
	T_CHECK("gt/args: every problem in one answer",
		refused_naming("{\"task_id\":\"a b\",\"wait_seconds\":999}", "task_id", "wait_seconds"));

	struct kling_config none = CFG;
	none.api_key = NULL;
	kling_init(&none);
	T_CHECK("gt/config: no credentials named",
		refused_naming("{\"task_id\":\"1\"}", "KLING_API_KEY", "KLING_SECRET_KEY"));
	struct kling_config seed = CFG;
	seed.backend = KLING_API_SEED;
	kling_init(&seed);
	T_CHECK("gt/config: the seed endpoint has no look-up",
		refused_naming("{\"task_id\":\"1\"}", "seed", "look-up"));
	kling_init(&CFG);
	T_CHECK("gt/config: back to a usable configuration", prep("{\"task_id\":\"1\"}") == 0);
}

#define S(x)                                                                                                 \
	{                                                                                                    \
		x, sizeof x - 1                                                                              \
	}

static int link_is(const struct kling_task *t, size_t k, const char *name, const char *mime)
{
	char got[200];
	const char *m = NULL;
	tool_get_task_link_name(t, k, got, sizeof got, &m);
	if (strcmp(got, name) != 0 || strcmp(m, mime) != 0) {
		fprintf(stderr, "link %zu: %s %s, want %s %s\n", k, got, m, name, mime);
		return 0;
	}
	return 1;
}

static void test_links(void)
{
	struct kling_output video[] = {
	    {S("video"), S("https://c/v/1.mp4?x-signature=a.png"), S("https://c/w.mp4"), S("5.1")},
	    {S("audio"), S("https://c/a/1.MP3"), {NULL, 0}, {NULL, 0}}};
	struct kling_task t = {.task_id = S("860"), .status = KLING_SUCCEED, .outputs = video, .noutputs = 2};
	T_CHECK("gt/link: <id>.mp4 from the path, not the query", link_is(&t, 0, "860.mp4", "video/mp4"));
	T_CHECK("gt/link: the audio next to it, any case", link_is(&t, 1, "860.mp3", "audio/mpeg"));
	struct kling_output imgs[] = {{S("image"), S("https://c/0.png"), {NULL, 0}, {NULL, 0}},
				      {S("image"), S("https://c/1.jpg"), {NULL, 0}, {NULL, 0}},
				      {S("image"), S("https://c/2.png#f"), {NULL, 0}, {NULL, 0}}};
	t.outputs = imgs;
	t.noutputs = 3;
	T_CHECK("gt/link: two of a kind are numbered among themselves",
		link_is(&t, 0, "860_0.png", "image/png") && link_is(&t, 2, "860_1.png", "image/png"));
	T_CHECK("gt/link: one jpeg among pngs", link_is(&t, 1, "860.jpg", "image/jpeg"));
	struct kling_output bare[] = {{S("video"), S("https://c/get?id=1"), {NULL, 0}, {NULL, 0}},
				      {S("model3d"), S("https://c/m.glb"), {NULL, 0}, {NULL, 0}}};
	t.outputs = bare;
	t.noutputs = 2;
	T_CHECK("gt/link: no extension: the output's type says video",
		link_is(&t, 0, "860.mp4", "video/mp4"));
	T_CHECK("gt/link: an unknown kind", link_is(&t, 1, "860.bin", "application/octet-stream"));
}

static void test_type(void)
{
	struct kling_output out[] = {{S("image"), S("https://c/0.png"), {NULL, 0}, {NULL, 0}}};
	struct kling_task t = {.task_id = S("1"), .status = KLING_SUCCEED, .outputs = out, .noutputs = 1};
	struct kling_str ty = tools_render_type(&t);
	T_CHECK("render/type: the outputs' type when the task has none",
		ty.len == 5 && memcmp(ty.ptr, "image", 5) == 0);
	t.task_type = (struct kling_str)S("images/generations");
	ty = tools_render_type(&t);
	T_CHECK("render/type: the task's own type (a legacy product) first", ty.len == 18);
	t.task_type = (struct kling_str){NULL, 0};
	t.noutputs = 0;
	T_CHECK("render/type: unknown", tools_render_type(&t).len == 0);
}

int main(void)
{
	t_plan(33);
	json_doc_init(&D, 4096);
	CFG.api_key = "k";
	CFG.backend = KLING_API_AUTO;
	kling_init(&CFG);
	test_arguments();
	test_links();
	test_type();
	json_doc_free(&D);
	return t_done();
}
