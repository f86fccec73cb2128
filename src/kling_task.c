/* kling_task — see kling_task.h: the vocabularies' one name table each. */
#include "kling_task.h"

const char *const kling_status_names[KLING_FAILED + 1] = {NULL, "submitted", "processing", "succeed", "failed"};
const char *const kling_product_names[KLING_TRY_ON + 1] = {NULL, "video", "image", "try_on"};
static const char *const g_api_names[] = {"auto", "tasks", "legacy", "seed"};

const char *kling_task_status_name(enum kling_status s)
{
	return s > KLING_STATUS_NONE && s <= KLING_FAILED ? kling_status_names[s] : NULL;
}

const char *kling_task_product_name(enum kling_product p)
{
	return p > KLING_PRODUCT_NONE && p <= KLING_TRY_ON ? kling_product_names[p] : NULL;
}

const char *kling_task_api_name(enum kling_api a)
{
	return a >= KLING_API_AUTO && a <= KLING_API_SEED ? g_api_names[a] : NULL;
}
