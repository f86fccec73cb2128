/*
 * fuzz.h — what every harness in tests/fuzz/ provides. Each fuzz_NAME.c is
 * built twice: with clang's libFuzzer (make fuzz: -fsanitize=fuzzer,address,
 * undefined) and with the normal compiler against replay.c, whose main()
 * replays corpus files (make test), so every input ever found stays a test.
 *
 * A harness must not keep state from one input to the next that changes
 * what the next input does (libFuzzer runs millions in one process), and
 * must abort() when an invariant it checks does not hold: a crash or an
 * abort is a finding.
 */
#ifndef KLING_FUZZ_H
#define KLING_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional (weak in replay.c): once before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant the harness checks: on failure say which and abort. */
#define FUZZ_ASSERT(cond)                                                                  \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "fuzz: %s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* A byte reader over the fuzz input, for harnesses that take parameters
 * (split points, modes) from its first bytes. Past the end it gives 0. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline unsigned fuzz_byte(struct fuzz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

#endif
