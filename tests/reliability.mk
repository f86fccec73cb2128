# Reliability targets, included by the Makefile (kept here so the main
# Makefile changes stay small). Uses its variables: B, CC, KFLAGS, LINK,
# LIB_OBJS, MBED_LIB.
#
#   every build      $(B)/replay/NAME: each fuzz harness with a plain
#                    main() that replays files (make test runs the corpora)
#   make fuzz        (tests/fuzz/run.sh) builds FUZZ=1 and runs each libFuzzer
#                    harness $(B)/bin/NAME for FUZZ_SECONDS
#   make valgrind    the end-to-end core under valgrind, glibc build in build/vg
#   make soak        10,000 list_tasks calls through one process
#   make lint        cppcheck and clang-tidy over src/

FUZZ_SRCS   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES  := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=%)
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(B)/replay/%)
FUZZ_BINS   := $(FUZZ_NAMES:%=$(B)/bin/%)
FUZZ_LIB    := $(B)/lib/libkling.a
SOAK_CALLS  ?= 10000

.PHONY: fuzz-bins valgrind soak lint

# The library as an archive: a harness that brings its own fake of a module
# (conn, http) links only the members it still needs.
$(FUZZ_LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	@rm -f $@; $(AR) rcs $@ $(LIB_OBJS)

$(B)/replay/%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(FUZZ_LIB) $(MBED_LIB)
	@mkdir -p $(@D)
	@$(CC) $(KFLAGS) -Itests/fuzz -o $@ $< tests/fuzz/replay.c -Wl,--start-group $(FUZZ_LIB) $(MBED_LIB) -Wl,--end-group $(filter-out -s,$(LINK))

$(B)/bin/%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_LIB) $(MBED_LIB)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	@$(CC) $(KFLAGS) -Itests/fuzz -fsanitize=fuzzer -o $@ $< -Wl,--start-group $(FUZZ_LIB) $(MBED_LIB) -Wl,--end-group $(LINK)

fuzz-bins: $(FUZZ_BINS)

test: $(FUZZ_REPLAY)

valgrind:
	@tools/bootstrap.sh test
	@$(MAKE) --no-print-directory VALGRIND=1 build/vg/kling-mcp unit $(FUZZ_NAMES:%=build/vg/replay/%)
	@KLING_MCP=$(abspath build/vg/kling-mcp) BUILD_DIR=$(abspath build/vg) python3 tests/valgrind.py

soak: $(B)/kling-mcp
	@tools/bootstrap.sh test
	@KLING_MCP=$(abspath $(B)/kling-mcp) SOAK_CALLS=$(SOAK_CALLS) python3 tests/soak.py

lint: $(DEPS)
	@tests/lint.sh
