/* Unit tests of the Kling error table: which codes are retried, and that each
 * message carries the code, the service's words, the request id and a hint. */
#include "kling_err.h"
#include "t.h"

/* (HTTP status, Kling code) pairs that are retried, and pairs that are not. */
static const int yes[][2] = {{429, 1302}, {429, 1303}, {500, 5000}, {503, 5001}, {504, 5002},
			     {429, 0}, {500, 0}, {502, 0}, {503, 0}, {504, 0},
			     /* a gateway's JSON error, not a Kling code: the status decides */
			     {503, 503}, {502, 502}, {429, 429}};
static const int no[][2] = {{429, 1100}, {429, 1101}, {429, 1102}, {403, 1103}, {429, 1304},
			    {400, 1200}, {400, 1201}, {401, 1000}, {401, 1002}, {401, 1004},
			    {404, 0}, {400, 0}, {401, 0}, {501, 0}, {400, 400}, {500, 1200}};
#define NRETRY (sizeof yes / sizeof *yes + sizeof no / sizeof *no)

static void test_retry(void)
{
	char name[64];
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		snprintf(name, sizeof name, "kling_err/retries HTTP %d code %d", yes[i][0], yes[i][1]);
		T_CHECK(name, kling_err_retryable(yes[i][0], yes[i][1]));
	}
	for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
		snprintf(name, sizeof name, "kling_err/no retry HTTP %d code %d", no[i][0], no[i][1]);
		T_CHECK(name, !kling_err_retryable(no[i][0], no[i][1]));
	}
}

static void test_text(void)
{
	char out[512];
	struct kling_error e = {401, 1002, "Authentication error. AK/SK not supported", "req-9"};
	kling_err_text(&e, KLING_API_TASKS, KLING_AUTH_JWT, "/tasks", out, sizeof out);
	T_CHECK("kling_err/1002 names code, status and message",
		strstr(out, "Kling API error 1002 (HTTP 401): Authentication error.") == out);
	T_CHECK("kling_err/request id shown", strstr(out, "(request_id req-9)") != NULL);
	T_CHECK("kling_err/1002 on /tasks with AK/SK says set KLING_API_KEY", strstr(out, "KLING_API_KEY") != NULL);
	e = (struct kling_error){401, 1004, "token expired", ""};
	kling_err_text(&e, KLING_API_LEGACY, KLING_AUTH_JWT, "/v1/videos/text2video", out, sizeof out);
	T_CHECK("kling_err/1004 points at the clock", strstr(out, "clock") != NULL);
	T_CHECK("kling_err/empty request id left out", strstr(out, "request_id") == NULL);
	e = (struct kling_error){401, 1003, "", NULL};
	kling_err_text(&e, KLING_API_LEGACY, KLING_AUTH_JWT, "/x", out, sizeof out);
	T_CHECK("kling_err/1003 points at the clock", strstr(out, "clock") && strstr(out, "(no message)"));
	e = (struct kling_error){404, 0, NULL, NULL};
	kling_err_text(&e, KLING_API_SEED, KLING_AUTH_API_KEY, "/v1/task/list", out, sizeof out);
	T_CHECK("kling_err/non-Kling 404 names status and path",
		strstr(out, "HTTP 404 Not Found at /v1/task/list") != NULL);
	T_CHECK("kling_err/seed 404 suggests another backend", strstr(out, "KLING_BACKEND") != NULL);
	e = (struct kling_error){502, 0, NULL, NULL};
	size_t n = kling_err_text(&e, KLING_API_TASKS, KLING_AUTH_API_KEY, "/tasks", out, 20);
	T_CHECK("kling_err/truncates safely", n == 19 && strlen(out) == 19);
	e = (struct kling_error){429, 1101, "arrears", "r"};
	kling_err_text(&e, KLING_API_TASKS, KLING_AUTH_API_KEY, "/tasks", out, sizeof out);
	T_CHECK("kling_err/account codes say retrying will not help", strstr(out, "retrying will not help") != NULL);
}

int main(void)
{
	t_plan((int)NRETRY + 10); /* one check per pair, and test_text's */
	test_retry();
	test_text();
	return t_done();
}
