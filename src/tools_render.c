/* tools_render — see tools_render.h. */
#include "tools_render.h"

#include "iso8601.h"
#include "text.h"

#include <string.h>

static int has(struct kling_str s)
{
	return s.ptr && s.len;
}

static struct kling_str cstr(const char *s)
{
	struct kling_str r = {s, strlen(s)};
	return r;
}

int tools_render_check(const struct kling_task *t, const char **why)
{
	if (!has(t->task_id))
		return *why = "a task without task_id", -1;
	if (!kling_task_status_name(t->status))
		return *why = "a task status outside submitted/processing/succeed/failed", -1;
	if (t->noutputs && !t->outputs)
		return *why = "outputs missing", -1;
	for (size_t k = 0; k < t->noutputs; k++)
		if (!has(t->outputs[k].type))
			return *why = "an output without type", -1;
	return 0;
}

struct kling_str tools_render_type(const struct kling_task *t)
{
	if (has(t->task_type))
		return t->task_type;
	for (size_t k = 0; k < t->noutputs; k++)
		if (has(t->outputs[k].type))
			return t->outputs[k].type;
	return cstr("");
}

void tools_render_text_add(struct json_w *w, struct kling_str s)
{
	const char *p = s.ptr, *end = s.ptr + s.len, *run = p;
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		size_t skip = 0;
		if (c == '\n' || c == '\t') /* one field, one line; other controls: the writer's rule */
			skip = 1;
		else if (c == 0xE2 && end - p >= 3 && (unsigned char)p[1] == 0x80 &&
			 ((unsigned char)p[2] == 0xA8 || (unsigned char)p[2] == 0xA9))
			skip = 3;
		if (!skip) {
			p++;
			continue;
		}
		json_w_str_add(w, run, (size_t)(p - run));
		json_w_str_add(w, " ", 1);
		p += skip;
		run = p;
	}
	json_w_str_add(w, run, (size_t)(p - run));
}

int tools_render_url_ok(struct kling_str u)
{
	const char *p = u.ptr;
	size_t n = u.len, k = n >= 8 && text_ieq(p, 8, "https://", 8) ? 8
			    : n >= 7 && text_ieq(p, 7, "http://", 7) ? 7 : 0;
	if (!k || n > LIMIT_URL_BYTES || k == n || p[k] == '/')
		return 0; /* another scheme (javascript:, file:, data:...), no host, too long */
	for (size_t i = 0; i < n;) {
		char rep[TEXT_REP_MAX];
		size_t rn, step = text_char((const unsigned char *)p, n, i, rep, &rn);
		if (rn || (unsigned char)p[i] <= ' ')
			return 0; /* a space, a control (CR LF, ESC, C1) or a bad byte */
		i += step;
	}
	return 1;
}

/* A URL's value in the text: the URL, or a note that it was left out. */
static void text_url(struct json_w *w, struct kling_str u)
{
	if (tools_render_url_ok(u))
		tools_render_text_add(w, u);
	else
		json_w_str_addc(w, TASK_RENDER_URL_NOTE);
}

static void text_field(struct json_w *w, const char *label, struct kling_str s)
{
	if (!has(s))
		return;
	json_w_str_addc(w, "\n   ");
	json_w_str_addc(w, label);
	json_w_str_addc(w, ": ");
	tools_render_text_add(w, s);
}

/* A time is shown and sent only when it is a real instant. */
static int time_ok(int64_t ms)
{
	return ms > 0 && ms <= ISO8601_MAX_MS;
}

static void text_time(struct json_w *w, const char *label, int64_t ms)
{
	char buf[ISO8601_LEN + 1];
	if (!time_ok(ms))
		return;
	iso8601_format(ms, buf);
	json_w_str_addc(w, "\n   ");
	json_w_str_addc(w, label);
	json_w_str_addc(w, ": ");
	json_w_str_addc(w, buf);
}

void tools_render_text(struct json_w *w, const struct kling_task *t, int64_t number)
{
	if (number > 0) {
		json_w_str_add_int(w, number);
		json_w_str_addc(w, ". ");
	}
	json_w_str_addc(w, "Task ID: ");
	tools_render_text_add(w, t->task_id);
	struct kling_str type = tools_render_type(t);
	text_field(w, "Type", has(type) ? type : cstr("N/A"));
	text_field(w, "Status", cstr(kling_task_status_name(t->status)));
	text_field(w, t->status == KLING_FAILED ? "Failure" : "Message", t->status_message);
	text_time(w, "Created", t->created_ms);
	text_time(w, "Updated", t->updated_ms);
	text_field(w, "Model", t->model_name);
	text_field(w, "External ID", t->external_task_id);
	for (size_t k = 0; k < t->noutputs; k++) {
		const struct kling_output *o = &t->outputs[k];
		json_w_str_addc(w, "\n   Result (");
		tools_render_text_add(w, o->type);
		if (has(o->duration)) {
			json_w_str_addc(w, ", ");
			tools_render_text_add(w, o->duration);
			json_w_str_addc(w, " s");
		}
		json_w_str_addc(w, "): ");
		if (has(o->url))
			text_url(w, o->url);
		else
			json_w_str_addc(w, "no URL");
		if (has(o->watermark_url)) {
			json_w_str_addc(w, "\n   Watermarked: ");
			text_url(w, o->watermark_url);
		}
	}
}

static void member(struct json_w *w, const char *key, struct kling_str s)
{
	if (!has(s))
		return;
	json_w_key(w, key);
	json_w_str(w, s.ptr, s.len);
}

static void member_time(struct json_w *w, const char *key, int64_t ms)
{
	char buf[ISO8601_LEN + 1];
	if (!time_ok(ms))
		return;
	iso8601_format(ms, buf);
	json_w_key(w, key);
	json_w_str(w, buf, ISO8601_LEN);
}

void tools_render_json(struct json_w *w, const struct kling_task *t)
{
	json_w_obj(w);
	member(w, "task_id", t->task_id);
	json_w_key(w, "status");
	json_w_cstr(w, kling_task_status_name(t->status));
	member(w, "status_message", t->status_message);
	member(w, "task_type", tools_render_type(t));
	member(w, "model_name", t->model_name);
	member(w, "external_task_id", t->external_task_id);
	member_time(w, "created_at", t->created_ms);
	member_time(w, "updated_at", t->updated_ms);
	json_w_key(w, "outputs");
	json_w_arr(w);
	for (size_t k = 0; k < t->noutputs; k++) {
		const struct kling_output *o = &t->outputs[k];
		json_w_obj(w);
		member(w, "type", o->type);
		if (tools_render_url_ok(o->url))
			member(w, "url", o->url);
		if (tools_render_url_ok(o->watermark_url))
			member(w, "watermark_url", o->watermark_url);
		member(w, "duration", o->duration);
		json_w_obj_end(w);
	}
	json_w_arr_end(w);
	json_w_obj_end(w);
}
