/*
 * tools_render — how the tools show one task, shared by list_tasks and
 * get_task so the two never drift apart: its text lines (the seed's layout)
 * and its structured object (one task of structuredContent), and that object's JSON
 * Schema for both outputSchemas.
 *
 * Type is what is known: the task's own type (a legacy product, the seed's
 * task_type), else its first output's type (video, image...) — "N/A" only
 * when neither is known.
 */
#ifndef KLING_TOOLS_RENDER_H
#define KLING_TOOLS_RENDER_H

#include <stdint.h>

#include "json.h"
#include "kling_task.h"

/* The JSON Schema of one task object (a string literal, for concatenation
 * into an outputSchema). */
#define TASK_RENDER_SCHEMA_NONEMPTY "{\"type\":\"string\",\"minLength\":1}"
#define TASK_RENDER_SCHEMA                                                                                     \
	"{\"type\":\"object\",\"properties\":{"                                                                \
	"\"task_id\":" TASK_RENDER_SCHEMA_NONEMPTY ","                                                          \
	"\"status\":{\"type\":\"string\",\"enum\":[\"submitted\",\"processing\",\"succeed\",\"failed\"]},"    \
	"\"status_message\":" TASK_RENDER_SCHEMA_NONEMPTY ","                                                   \
	"\"task_type\":" TASK_RENDER_SCHEMA_NONEMPTY ","                                                        \
	"\"model_name\":" TASK_RENDER_SCHEMA_NONEMPTY ","                                                       \
	"\"external_task_id\":" TASK_RENDER_SCHEMA_NONEMPTY ","                                                 \
	"\"created_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                                      \
	"\"updated_at\":{\"type\":\"string\",\"format\":\"date-time\"},"                                      \
	"\"outputs\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"                     \
	"\"type\":" TASK_RENDER_SCHEMA_NONEMPTY ",\"url\":" TASK_RENDER_SCHEMA_NONEMPTY                         \
	",\"watermark_url\":" TASK_RENDER_SCHEMA_NONEMPTY ",\"duration\":" TASK_RENDER_SCHEMA_NONEMPTY "},"     \
	"\"required\":[\"type\"],\"additionalProperties\":false}}},"                                          \
	"\"required\":[\"task_id\",\"status\",\"outputs\"],\"additionalProperties\":false}"

/* 1 when URL u may be shown, as a result line or a link: https:// or
 * http:// with a host, at most LIMIT_URL_BYTES, no space, no control, no
 * invalid UTF-8. Anything else (javascript:, file:, a URL holding CR LF or
 * ESC) is left out: the text says TASK_RENDER_URL_NOTE instead, the
 * structured task and get_task's links leave it out. */
int tools_render_url_ok(struct kling_str u);
#define TASK_RENDER_URL_NOTE "left out (not an http(s) URL without spaces or control characters)"

/* 0 when t can be rendered; else -1 and *why names the broken field (a
 * backend bug: empty task_id, status out of range, output without type). */
int tools_render_check(const struct kling_task *t, const char **why);

/* The type shown for t (see above); len 0 when unknown. */
struct kling_str tools_render_type(const struct kling_task *t);

/* Add t's lines to the open text string of w: "<number>. Task ID: ..." (or
 * "Task ID: ..." for number 0), then Type, Status, the failure or message,
 * Created, Updated, Model, External ID and one line per result, each
 * "\n   Label: value". */
void tools_render_text(struct json_w *w, const struct kling_task *t, int64_t number);

/* Add s to the open text string of w with newlines, tabs and line
 * separators turned into spaces (a value cannot break the layout or forge
 * lines; structuredContent keeps them); other controls get the writer's
 * rule (text.h), in the text and in structuredContent alike. */
void tools_render_text_add(struct json_w *w, struct kling_str s);

/* Write t as the structured task object (optional members left out when
 * unknown, never empty strings). */
void tools_render_json(struct json_w *w, const struct kling_task *t);

#endif
