/* mcp_task — see mcp_task.h. */
#include "mcp_task.h"

#include "hex.h"
#include "iso8601.h"
#include "rng.h"

#include "mbedtls/md.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ID_A_PREFIX "kta-"
#define ID_B_PREFIX "ktb-"
#define ID_B_VERSION 1
#define MAC_BYTES 16
#define PRINCIPAL_BYTES 8
/* version, tool, created (6 bytes, ms), wait end - created (4 bytes, ms),
 * principal, key length, key, MAC */
#define ID_B_FIXED (1 + 1 + 6 + 4 + PRINCIPAL_BYTES + 1)

static struct {
	unsigned char key[64];
	size_t key_len;
	unsigned char principal[PRINCIPAL_BYTES];
	int64_t ttl;
	struct mcp_task tasks[LIMIT_TASKS];
} G;

const char *mcp_task_status_name(enum mcp_task_status st)
{
	static const char *const names[] = {"working", "completed", "failed", "cancelled"};
	return names[st];
}

static const mbedtls_md_info_t *sha256(void)
{
	return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
}

int mcp_task_init(const char *key, const char *principal, int64_t ttl_ms)
{
	unsigned char h[32];
	G.ttl = ttl_ms;
	if (key) { /* a long key is hashed to one block's worth, as HMAC itself would */
		size_t n = strlen(key);
		if (n > sizeof G.key) {
			mbedtls_md(sha256(), (const unsigned char *)key, n, G.key);
			n = 32;
		} else {
			memcpy(G.key, key, n);
		}
		G.key_len = n;
	} else {
		G.key_len = 32;
		if (rng_bytes(G.key, G.key_len) < 0)
			return -1;
	}
	const char *p = principal ? principal : "";
	if (mbedtls_md(sha256(), (const unsigned char *)p, strlen(p), h) != 0)
		return -1;
	memcpy(G.principal, h, sizeof G.principal);
	return 0;
}

int64_t mcp_task_ttl_ms(void)
{
	return G.ttl;
}

int64_t mcp_task_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- 2025-11-25 ---- */

static void task_free(struct mcp_task *t)
{
	free(t->result);
	memset(t, 0, sizeof *t);
}

/* Ended tasks past their ttl are dropped (a working one cannot be: its
 * call's deadline comes before). */
static void sweep(int64_t now)
{
	for (int i = 0; i < LIMIT_TASKS; i++)
		if (G.tasks[i].owner && G.tasks[i].status != MT_WORKING && now >= G.tasks[i].created + G.ttl)
			task_free(&G.tasks[i]);
}

int mcp_task_count(const void *owner)
{
	int n = 0;
	sweep(mcp_task_now());
	for (int i = 0; i < LIMIT_TASKS; i++)
		n += G.tasks[i].owner && (!owner || G.tasks[i].owner == owner);
	return n;
}

struct mcp_task *mcp_task_new(const void *owner, int64_t now, char *err, size_t errcap)
{
	unsigned char r[16];
	struct mcp_task *t = NULL;
	sweep(now);
	int mine = mcp_task_count(owner), all = mcp_task_count(NULL);
	if (mine >= LIMIT_SESSION_TASKS || all >= LIMIT_TASKS) {
		snprintf(err, errcap,
			 "Too many tasks: %d in this session (at most %d, LIMIT_SESSION_TASKS) and %d in this server "
			 "(at most %d, LIMIT_TASKS), each kept until its ttl. Call the tool without a task, or again "
			 "later.",
			 mine, LIMIT_SESSION_TASKS, all, LIMIT_TASKS);
		return NULL;
	}
	for (int i = 0; i < LIMIT_TASKS && !t; i++)
		if (!G.tasks[i].owner)
			t = &G.tasks[i];
	if (rng_bytes(r, sizeof r) < 0) {
		snprintf(err, errcap, "Internal error: no random bytes for a task id.");
		return NULL;
	}
	memcpy(t->id, ID_A_PREFIX, 5); /* with its NUL */
	hex_b64url(r, sizeof r, t->id + 4, sizeof t->id - 4);
	t->owner = owner;
	t->status = MT_WORKING;
	t->created = t->updated = now;
	return t;
}

struct mcp_task *mcp_task_find(const void *owner, const char *id, size_t n, int64_t now)
{
	sweep(now);
	for (int i = 0; i < LIMIT_TASKS; i++) {
		struct mcp_task *t = &G.tasks[i];
		if (t->owner && t->owner == owner && strlen(t->id) == n && memcmp(t->id, id, n) == 0)
			return t;
	}
	return NULL;
}

struct mcp_task *mcp_task_of_work(const void *work)
{
	for (int i = 0; work && i < LIMIT_TASKS; i++)
		if (G.tasks[i].owner && G.tasks[i].work == work)
			return &G.tasks[i];
	return NULL;
}

void mcp_task_note(struct mcp_task *t, const char *message, int64_t now)
{
	size_t n = strlen(message), cut = n < sizeof t->message - 1 ? n : sizeof t->message - 1;
	while (cut < n && cut > 0 && ((unsigned char)message[cut] & 0xC0) == 0x80)
		cut--; /* never inside a UTF-8 character */
	memmove(t->message, message, cut);
	t->message[cut] = 0;
	t->updated = now;
}

int mcp_task_end(struct mcp_task *t, enum mcp_task_status st, const char *json, size_t n, const char *message, int64_t now)
{
	t->status = st;
	t->work = NULL;
	if (message)
		mcp_task_note(t, message, now);
	t->updated = now;
	free(t->result);
	t->result = n <= LIMIT_TASK_RESULT_BYTES ? malloc(n ? n : 1) : NULL;
	t->result_len = t->result ? n : 0;
	if (!t->result)
		return -1;
	memcpy(t->result, json, n);
	return 0;
}

void mcp_task_drop_owner(const void *owner)
{
	for (int i = 0; i < LIMIT_TASKS; i++)
		if (G.tasks[i].owner == owner)
			task_free(&G.tasks[i]);
}

/* ---- 2026-07-28 ---- */

static int mac_of(const unsigned char *p, size_t n, unsigned char mac[MAC_BYTES])
{
	unsigned char full[32];
	if (mbedtls_md_hmac(sha256(), G.key, G.key_len, p, n, full) != 0)
		return -1;
	memcpy(mac, full, MAC_BYTES);
	return 0;
}

static void put_be(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t get_be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

int mcp_task_id_make(const struct mcp_task_ref *r, char *out, size_t cap)
{
	unsigned char b[ID_B_FIXED + MCP_TASK_KEY_MAX + MAC_BYTES];
	int64_t wait = r->wait_end - r->created;
	if (r->key_len > MCP_TASK_KEY_MAX || r->tool < 0 || r->tool > 255 || cap < 5 || wait < 0 || wait > 0xffffffffLL)
		return -1;
	b[0] = ID_B_VERSION;
	b[1] = (unsigned char)r->tool;
	put_be(b + 2, (uint64_t)r->created, 6);
	put_be(b + 8, (uint64_t)wait, 4);
	memcpy(b + 12, G.principal, PRINCIPAL_BYTES);
	b[12 + PRINCIPAL_BYTES] = (unsigned char)r->key_len;
	memcpy(b + ID_B_FIXED, r->key, r->key_len);
	size_t n = ID_B_FIXED + r->key_len;
	if (mac_of(b, n, b + n) != 0)
		return -1;
	memcpy(out, ID_B_PREFIX, 5); /* with its NUL (cap >= 5) */
	int k = hex_b64url(b, n + MAC_BYTES, out + 4, cap - 4);
	return k < 0 ? -1 : k + 4;
}

static int b64_value(char c)
{
	return c >= 'A' && c <= 'Z'   ? c - 'A'
	       : c >= 'a' && c <= 'z' ? c - 'a' + 26
	       : c >= '0' && c <= '9' ? c - '0' + 52
	       : c == '-'	      ? 62
	       : c == '_'	      ? 63
				      : -1;
}

/* base64url without padding; returns the bytes written, or -1. */
static int b64url_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;
	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == cap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (acc & ((1u << bits) - 1)) /* one id, one spelling: the spare bits are zero */
		return -1;
	return (int)o;
}

int mcp_task_id_read(const char *id, size_t n, int64_t now, struct mcp_task_ref *r, const char **why)
{
	unsigned char b[ID_B_FIXED + MCP_TASK_KEY_MAX + MAC_BYTES], mac[MAC_BYTES];
	*why = "not a task id of this server";
	if (n < 4 || n > MCP_TASK_ID_MAX || memcmp(id, ID_B_PREFIX, 4) != 0)
		return -1;
	int k = b64url_decode(id + 4, n - 4, b, sizeof b);
	if (k < ID_B_FIXED + MAC_BYTES || b[0] != ID_B_VERSION)
		return -1;
	size_t klen = b[12 + PRINCIPAL_BYTES], body = ID_B_FIXED + klen;
	if (klen > MCP_TASK_KEY_MAX || (size_t)k != body + MAC_BYTES || mac_of(b, body, mac) != 0)
		return -1;
	unsigned char diff = 0; /* in constant time: no byte of a valid MAC leaks */
	for (int i = 0; i < MAC_BYTES; i++)
		diff |= mac[i] ^ b[body + (size_t)i];
	for (int i = 0; i < PRINCIPAL_BYTES; i++)
		diff |= G.principal[i] ^ b[12 + i];
	if (diff)
		return -1;
	r->tool = b[1];
	r->created = (int64_t)get_be(b + 2, 6);
	r->wait_end = r->created + (int64_t)get_be(b + 8, 4);
	memcpy(r->key, b + ID_B_FIXED, klen);
	r->key[klen] = 0;
	r->key_len = klen;
	if (now >= r->created + G.ttl) {
		*why = "the task has expired";
		return -1;
	}
	return 0;
}

/* ---- writing ---- */

static void write_time(struct json_w *w, const char *key, int64_t ms)
{
	char t[ISO8601_LEN + 1];
	json_w_key(w, key);
	if (iso8601_format(ms, t) < 0)
		json_w_cstr(w, "1970-01-01T00:00:00.000Z");
	else
		json_w_cstr(w, t);
}

void mcp_task_write(struct json_w *w, const char *id, enum mcp_task_status st, const char *message, int64_t created,
		 int64_t updated, int modern)
{
	json_w_key(w, "taskId");
	json_w_cstr(w, id);
	json_w_key(w, "status");
	json_w_cstr(w, mcp_task_status_name(st));
	if (message && message[0]) {
		json_w_key(w, "statusMessage");
		json_w_cstr(w, message);
	}
	write_time(w, "createdAt", created);
	write_time(w, "lastUpdatedAt", updated);
	json_w_key(w, modern ? "ttlMs" : "ttl");
	json_w_int(w, G.ttl);
	json_w_key(w, modern ? "pollIntervalMs" : "pollInterval");
	json_w_int(w, modern ? MCP_TASK_POLL_MS_MODERN : MCP_TASK_POLL_MS);
}
