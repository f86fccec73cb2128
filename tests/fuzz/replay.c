/*
 * replay — main() for a fuzz harness built without libFuzzer: runs every
 * file named on the command line (a folder: every file in it, sorted)
 * through LLVMFuzzerTestOneInput, each in a child process, and prints
 *   PASS fuzz/<harness>/<file>           the input ran to its end
 *   FAIL fuzz/<harness>/<file>: <why>    it crashed, aborted or exited
 * which tests/run.sh counts. The input is placed against an unreadable page,
 * so a read one byte past its end crashes even without a sanitizer.
 * Exit status 0 when every file passed, 1 otherwise.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

#define REPLAY_MAX_BYTES (8 * 1024 * 1024)

static const char *g_name;
static int g_failed, g_passed;

/* The whole file, or NULL (and *why). The copy ends at a PROT_NONE page. */
static const uint8_t *load(const char *path, size_t *len, const char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return *why = strerror(errno), NULL;
	static uint8_t tmp[REPLAY_MAX_BYTES];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, tmp + n, sizeof tmp - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return *why = strerror(errno), NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == sizeof tmp) {
			close(fd);
			return *why = "larger than the replay limit", NULL;
		}
	}
	close(fd);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t maplen = (n + page - 1) / page * page + page;
	if (maplen == page)
		maplen += page;
	uint8_t *map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return *why = "mmap failed", NULL;
	mprotect(map + maplen - page, page, PROT_NONE);
	uint8_t *start = map + maplen - page - n;
	memcpy(start, tmp, n);
	*len = n;
	return start;
}

/* The line of the child's stderr that says most about a failure: a broken
 * invariant or a sanitizer's verdict, else the last line. */
static void reason(const char *err, size_t n, char *out, size_t cap)
{
	static const char *const marks[] = {"invariant failed", "ERROR: ", "runtime error:", "SUMMARY: "};
	const char *best = NULL;
	for (size_t m = 0; m < sizeof marks / sizeof *marks && !best; m++)
		best = memmem(err, n, marks[m], strlen(marks[m]));
	if (best) {
		while (best > err && best[-1] != '\n')
			best--;
	} else {
		const char *e = err + n;
		while (e > err && (e[-1] == '\n' || e[-1] == ' '))
			e--;
		best = e;
		while (best > err && best[-1] != '\n')
			best--;
	}
	size_t k = 0;
	for (const char *p = best; p < err + n && *p != '\n' && k + 1 < cap; p++)
		out[k++] = *p;
	out[k] = 0;
}

static void run_file(const char *path, const char *shown)
{
	fflush(stdout);
	int pfd[2];
	if (pipe(pfd) < 0) {
		printf("FAIL fuzz/%s/%s: pipe failed: %s\n", g_name, shown, strerror(errno));
		g_failed++;
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		printf("FAIL fuzz/%s/%s: fork failed: %s\n", g_name, shown, strerror(errno));
		g_failed++;
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	if (pid == 0) {
		close(pfd[0]);
		dup2(pfd[1], 2);
		close(pfd[1]);
		const char *why = NULL;
		size_t len = 0;
		const uint8_t *data = load(path, &len, &why);
		if (!data) {
			fprintf(stderr, "cannot read %s: %s\n", path, why);
			_exit(3);
		}
		LLVMFuzzerTestOneInput(data, len);
		_exit(0);
	}
	close(pfd[1]);
	static char err[64 * 1024];
	size_t n = 0;
	for (;;) { /* keep the first 64 KiB, drain the rest */
		char tmp[4096];
		ssize_t r = read(pfd[0], tmp, sizeof tmp);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size_t take = (size_t)r < sizeof err - n ? (size_t)r : sizeof err - n;
		memcpy(err + n, tmp, take);
		n += take;
	}
	close(pfd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	char why[300];
	reason(err, n, why, sizeof why);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		printf("PASS fuzz/%s/%s\n", g_name, shown);
		g_passed++;
	} else if (WIFSIGNALED(st)) {
		printf("FAIL fuzz/%s/%s: killed by signal %d (%s): %s\n", g_name, shown, WTERMSIG(st),
		       strsignal(WTERMSIG(st)), why);
		g_failed++;
	} else {
		printf("FAIL fuzz/%s/%s: exit status %d: %s\n", g_name, shown, WEXITSTATUS(st), why);
		g_failed++;
	}
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		printf("FAIL fuzz/%s/%s: %s\n", g_name, dir, strerror(errno));
		g_failed++;
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof *names);
			if (!nn)
				abort();
			names = nn;
		}
		names[n] = strdup(e->d_name);
		if (!names[n])
			abort();
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		run_file(path, names[i]);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	g_name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|FOLDER...\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			run_dir(argv[i]);
		else
			run_file(argv[i], argv[i]);
	}
	fflush(stdout);
	fprintf(stderr, "replay %s: %d passed, %d failed\n", g_name, g_passed, g_failed);
	return g_failed ? 1 : 0;
}
