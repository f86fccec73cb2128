/*
 * kling_get — get_task's look-up of one task by id on the Kling API, on
 * kling.c's request path:
 *   tasks   GET /tasks?task_ids=<id> (or external_task_ids=)
 *   legacy  GET /v1/<product>/<id> for each product of the set,
 *           LIMIT_UPSTREAM_PARALLEL side by side, the first found wins (a
 *           Kling 404/1203 or 1201, or empty data, is "not this product")
 *   seed    none (an error)
 * The real backend's get_start and get_cancel (kling_list.h assembles it).
 */
#ifndef KLING_GET_H
#define KLING_GET_H

#include <stdint.h>

#include "kling_task.h"

/* struct kling_backend's get_start and get_cancel for the Kling API. */
struct kling_get_op *kling_get_start(const struct kling_get_query *q, int64_t deadline_ms, kling_get_done_fn done,
				     void *ctx);
void kling_get_cancel(struct kling_get_op *op);

/* Free the spare look-up state kept between calls. */
void kling_get_shutdown(void);

#endif
