/* mcp_tasks: the 2026-07-28 task-id codec (round trip, forged, altered,
 * another key, other credentials, expired, not ours) and the 2025-11-25
 * store (unguessable ids, owner binding, per-owner and process limits, ttl,
 * results kept). */
#include "t.h"

#include "mcp_task.h"

#define TTL 900000
#define NOW 1790000000000LL /* 2026-09 */

static struct mcp_task_ref ref(const char *key, int64_t created, int64_t wait_end)
{
	struct mcp_task_ref r;
	memset(&r, 0, sizeof r);
	r.key_len = strlen(key);
	memcpy(r.key, key, r.key_len + 1);
	r.tool = 1;
	r.created = created;
	r.wait_end = wait_end;
	return r;
}

static int reads(const char *id, int64_t now, struct mcp_task_ref *out, const char **why)
{
	return mcp_task_id_read(id, strlen(id), now, out, why);
}

static void codec(void)
{
	char id[MCP_TASK_ID_MAX + 1], other[MCP_TASK_ID_MAX + 1];
	struct mcp_task_ref r = ref("812345678901234567", NOW, NOW + 300000), got;
	const char *why = NULL;
	T_CHECK("codec/init with a key", mcp_task_init("0123456789abcdef-shared", "kling-key\n", TTL) == 0);
	int n = mcp_task_id_make(&r, id, sizeof id);
	T_CHECK("codec/id made: ktb- then base64url only", n > 4 && strncmp(id, "ktb-", 4) == 0 &&
								   strspn(id + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
									   strlen(id) - 4);
	memset(&got, 0, sizeof got);
	T_CHECK("codec/round trip: key, tool, created, wait end",
		reads(id, NOW + 1000, &got, &why) == 0 && strcmp(got.key, r.key) == 0 && got.key_len == r.key_len &&
			got.tool == 1 && got.created == NOW && got.wait_end == NOW + 300000);
	T_CHECK("codec/readable until its ttl", reads(id, NOW + TTL - 1, &got, &why) == 0);
	T_CHECK("codec/expired after its ttl", reads(id, NOW + TTL, &got, &why) < 0 && strstr(why, "expired"));

	/* every single character changed is refused (forged or altered) */
	int all_refused = 1;
	for (size_t i = 4; i < strlen(id); i++) {
		memcpy(other, id, sizeof other);
		other[i] = other[i] == 'A' ? 'B' : 'A';
		if (reads(other, NOW, &got, &why) == 0)
			all_refused = 0;
	}
	T_CHECK("codec/any character altered: refused", all_refused);
	memcpy(other, id, sizeof other);
	other[strlen(other) - 3] = 0;
	T_CHECK("codec/cut short: refused", reads(other, NOW, &got, &why) < 0 && strstr(why, "not a task id"));
	T_CHECK("codec/another prefix: refused", reads("kta-AAAAAAAAAAAAAAAAAAAAAA", NOW, &got, &why) < 0);
	T_CHECK("codec/not base64url: refused", reads("ktb-AAAA*AAA", NOW, &got, &why) < 0);
	T_CHECK("codec/the conformance suite's nonexistent id: refused",
		reads("tasks-conformance-nonexistent-12345", NOW, &got, &why) < 0);

	/* another replica with the same key and credentials reads it; another
	 * key or other credentials do not */
	T_CHECK("codec/same key and credentials (a replica): read",
		mcp_task_init("0123456789abcdef-shared", "kling-key\n", TTL) == 0 && reads(id, NOW, &got, &why) == 0);
	mcp_task_init("another-key-0123456789", "kling-key\n", TTL);
	T_CHECK("codec/another key: refused", reads(id, NOW, &got, &why) < 0 && strstr(why, "not a task id"));
	mcp_task_init("0123456789abcdef-shared", "other-kling-key\n", TTL);
	T_CHECK("codec/other credentials: refused", reads(id, NOW, &got, &why) < 0);
	mcp_task_init("0123456789abcdef-shared", "kling-key\nbearer", TTL);
	T_CHECK("codec/another caller token: refused", reads(id, NOW, &got, &why) < 0);
	mcp_task_init(NULL, "kling-key\n", TTL);
	T_CHECK("codec/a random per-process key: refused", reads(id, NOW, &got, &why) < 0);

	char key[MCP_TASK_KEY_MAX + 2];
	memset(key, '7', sizeof key - 1);
	key[sizeof key - 1] = 0;
	struct mcp_task_ref big = ref(key, NOW, NOW);
	T_CHECK("codec/key longer than MCP_TASK_KEY_MAX: no id", mcp_task_id_make(&big, id, sizeof id) < 0);
	key[MCP_TASK_KEY_MAX] = 0;
	big = ref(key, NOW, NOW + 300000);
	n = mcp_task_id_make(&big, id, sizeof id);
	T_CHECK("codec/longest key fits MCP_TASK_ID_MAX and reads back",
		n > 0 && n <= MCP_TASK_ID_MAX && reads(id, NOW, &got, &why) == 0 && got.key_len == MCP_TASK_KEY_MAX);
}

static void store(void)
{
	static int a, b;
	char err[400];
	mcp_task_init(NULL, "", TTL);
	struct mcp_task *t1 = mcp_task_new(&a, NOW, err, sizeof err), *t2 = mcp_task_new(&a, NOW, err, sizeof err);
	T_CHECK("store/ids: kta- + 22 characters, distinct",
		t1 && t2 && strncmp(t1->id, "kta-", 4) == 0 && strlen(t1->id) == 26 && strcmp(t1->id, t2->id) != 0);
	T_CHECK("store/new task is working", t1->status == MT_WORKING && t1->created == NOW);
	T_CHECK("store/found by its owner", mcp_task_find(&a, t1->id, strlen(t1->id), NOW) == t1);
	T_CHECK("store/not found by another session", mcp_task_find(&b, t1->id, strlen(t1->id), NOW) == NULL);
	T_CHECK("store/ended: result kept", mcp_task_end(t1, MT_COMPLETED, "{\"x\":1}", 7, NULL, NOW + 5) == 0 &&
						    t1->result_len == 7 && memcmp(t1->result, "{\"x\":1}", 7) == 0 &&
						    t1->status == MT_COMPLETED && t1->updated == NOW + 5);
	T_CHECK("store/an ended task is dropped after its ttl", mcp_task_find(&a, t1->id, strlen(t1->id), NOW + TTL) == NULL);
	T_CHECK("store/a working one is not", mcp_task_find(&a, t2->id, strlen(t2->id), NOW + TTL) == t2);
	int made = 1;
	while (mcp_task_new(&a, NOW + TTL, err, sizeof err))
		made++;
	T_CHECK("store/LIMIT_SESSION_TASKS per session, then refused naming it",
		made == LIMIT_SESSION_TASKS && strstr(err, "LIMIT_SESSION_TASKS") != NULL);
	static int owners[LIMIT_TASKS];
	int all = mcp_task_count(NULL);
	for (int i = 0; all < LIMIT_TASKS + 5; i++, all++)
		if (!mcp_task_new(&owners[i], NOW + TTL, err, sizeof err))
			break;
	T_CHECK("store/LIMIT_TASKS in all, then refused naming it",
		mcp_task_count(NULL) == LIMIT_TASKS && strstr(err, "LIMIT_TASKS") != NULL);
	char big[LIMIT_TASK_RESULT_BYTES + 1];
	memset(big, ' ', sizeof big);
	T_CHECK("store/a result over LIMIT_TASK_RESULT_BYTES is not kept",
		mcp_task_end(t2, MT_COMPLETED, big, sizeof big, NULL, NOW + TTL) < 0 && t2->result == NULL);
	mcp_task_drop_owner(&a);
	T_CHECK("store/a session's end drops its tasks", mcp_task_count(&a) == 0 && mcp_task_count(NULL) == LIMIT_TASKS - LIMIT_SESSION_TASKS);
	for (int i = 0; i < LIMIT_TASKS; i++)
		mcp_task_drop_owner(&owners[i]);
}

int main(void)
{
	t_plan(28);
	codec();
	store();
	return t_done();
}
