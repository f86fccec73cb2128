# kling-mcp — one static executable: an MCP server for the Kling AI API.
#
#   make                   build/kling-mcp (musl, static, stripped)
#   make test              build, then every test suite; last line "N passed, N failed, N skipped"
#   make test SANITIZE=1   the same under ASan+UBSan (clang, glibc) in build/san/
#   make valgrind | soak | lint   memory checks (build/vg/), the long soak, static analysis
#   make demo | bench | fuzz FUZZ_SECONDS=N | clean | distclean | install PREFIX= DESTDIR=
#   make mutate            one-line mutations of the product, each must be caught (tests/mutate.py)
#   make EMBED_CA=0        leave the embedded CA bundle out
#   make ARCH=aarch64|armv7|mipsel|mips   build/<arch>/kling-mcp; make cross: all four (mk/cross.mk)
#   make dist              every architecture built twice, compared byte for byte, into dist/ with
#                          SHA256SUMS (mk/dist.mk), with the packages below
#   make ipk | oci | server-json   OpenWrt packages, OCI image archive, MCP Registry entry (mk/pkg.mk)
#   make install-systemd   the systemd unit and an example environment file (packaging/systemd)
# Sources are listed by wildcard: a new src/*.c, tests/unit/test_*.c or tests/lib/*.c needs no edit here.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
EMBED_CA   ?= 1
CA_BUNDLE  ?= /etc/ssl/certs/ca-certificates.crt
SANITIZE   ?= 0
VALGRIND   ?= 0
FUZZ       ?= 0
FUZZ_SECONDS ?= 10

include third_party/PINS

# Reproducible builds: the same commit gives the same bytes, whatever the folder
# and the time (make dist and tests/suites/test_repro.sh check it). Dates come
# from the last commit (nothing of ours reads one: -Wdate-time below), paths in
# the objects are relative to the tree (-ffile-prefix-map in OPT), archives are
# deterministic (ar D) and the link writes no build id.
ifndef SOURCE_DATE_EPOCH
SOURCE_DATE_EPOCH := $(shell git log -1 --format=%ct 2>/dev/null)
endif
ifneq ($(SOURCE_DATE_EPOCH),)
export SOURCE_DATE_EPOCH
endif
# What another build of this tree must be given to make the same bytes.
REPRO_VARS = $(if $(SOURCE_DATE_EPOCH),SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH)) EMBED_CA=$(EMBED_CA) \
             CA_BUNDLE=$(abspath $(CA_BUNDLE))
TP        := third_party
MBEDTLS   := $(TP)/mbedtls-$(MBEDTLS_VERSION)
JSMN      := $(TP)/jsmn-$(JSMN_VERSION)

ifeq ($(FUZZ),1)
# libFuzzer harnesses (make fuzz): every object carries coverage for the fuzzer.
B          := build/fuzz
CC         := clang
TARGET     := $(shell $(CC) -dumpmachine)-fuzz
OPT        := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
LINK       := -fsanitize=address,undefined
else ifeq ($(SANITIZE),1)
B          := build/san
CC         := clang
TARGET     := $(shell $(CC) -dumpmachine)-asan
OPT        := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LINK       := -fsanitize=address,undefined
else ifeq ($(VALGRIND),1)
# For valgrind (make valgrind): glibc, no sanitizer, symbols kept.
B          := build/vg
CC         := gcc
TARGET     := $(shell $(CC) -dumpmachine)-valgrind
OPT        := -O1 -g -fno-omit-frame-pointer
LINK       :=
else
B          := build
CC         := musl-gcc
TARGET     := $(shell uname -m)-linux-musl
# Size: no unwind tables (C, no exceptions; -45 KB) and link-time optimization
# (-33 KB), whose objects need gcc-ar to be archived. Measured in README.
# -g changes no byte of the stripped product; make bench reads it (nm -l) to
# tell which source each symbol of the unstripped link comes from.
OPT        := -Os -ffunction-sections -fdata-sections -fstack-protector-strong -fstack-clash-protection \
              -fno-asynchronous-unwind-tables -fno-unwind-tables -flto -flto-partition=one -g \
              -ffile-prefix-map=$(CURDIR)=.
LINK       := -static -s -Wl,--gc-sections -Wl,-z,relro,-z,now -Wl,-z,noexecstack -Wl,--build-id=none
AR         := gcc-ar
endif
# make ARCH=aarch64|armv7|mipsel|mips, make cross: see mk/cross.mk
include mk/cross.mk

# The config is named in <>: with "" the #include in mbedtls/build_info.h would
# find mbedTLS's own default mbedtls_config.h next to it before ours in -I$(TP).
CPPFLAGS   := -D_GNU_SOURCE -I$(TP) -I$(MBEDTLS)/include -I$(JSMN) -Isrc \
              -DMBEDTLS_CONFIG_FILE='<mbedtls_config.h>'
WARN       := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla \
              -Wdate-time
CFLAGS     := -std=c11 $(OPT)
KFLAGS     := $(CPPFLAGS) $(CFLAGS) $(WARN) -DKLING_VERSION='"$(VERSION)"' -DKLING_TARGET='"$(TARGET)"' \
              -DKLING_EMBED_CA=$(EMBED_CA)

SRCS       := $(sort $(wildcard src/*.c))
OBJS       := $(SRCS:src/%.c=$(B)/obj/%.o) $(B)/obj/ca_bundle.o
LIB_OBJS   := $(filter-out $(B)/obj/main.o,$(OBJS))
MBED_SRCS  := $(wildcard $(MBEDTLS)/library/*.c)
MBED_LIB   := $(B)/libmbedtls.a
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
DEPS       := $(TP)/.fetched

.PHONY: all test unit demo bench fuzz clean distclean install bootstrap fetch check-clang mutate dist
all: $(B)/kling-mcp

bootstrap:
	@tools/bootstrap.sh build

$(DEPS): $(TP)/PINS $(TP)/fetch.sh
	@tools/bootstrap.sh build
	@$(TP)/fetch.sh all
	@touch $@
fetch: $(DEPS)

# mbedTLS: compiled from the verified tree with our config, no changes to it.
$(B)/mbedtls/%.o: $(MBEDTLS)/library/%.c $(TP)/mbedtls_config.h | $(DEPS)
	@mkdir -p $(@D)
	@$(CC) $(CPPFLAGS) -I$(MBEDTLS)/library $(CFLAGS) -w -c $< -o $@
# The sources exist only after the fetch, so a make started on a fresh tree
# cannot list them when it reads this file: a sub-make, started once they are
# there, lists them itself (mbedtls-objs).
.PHONY: mbedtls-objs
mbedtls-objs: $(patsubst $(MBEDTLS)/library/%.c,$(B)/mbedtls/%.o,$(MBED_SRCS))
$(MBED_LIB): $(DEPS) $(TP)/mbedtls_config.h
	@$(MAKE) --no-print-directory mbedtls-objs
	@rm -f $@; $(AR) rcsD $@ $(B)/mbedtls/*.o
	@echo "  AR      $@ ($$(ls $(B)/mbedtls/*.o | wc -l) objects)"

# aesni.c at -O3: GCM's multiply byte-reverses its operands in loops that
# -Os leaves scalar. Vectorized, a warm list_tasks call runs 6.7% fewer
# instructions (674.5 K -> 629.5 K) for 592 bytes of code; all of gcm.c and
# aesni.c at -O3 would save 10% for 6.8 KB, -O2 3.6% for 1.6 KB.
$(B)/mbedtls/aesni.o: CFLAGS += -O3

# The embedded CA bundle: the build machine's PEM bundle as concatenated DER.
$(B)/gen/embed_ca.$(EMBED_CA):
	@mkdir -p $(@D); rm -f $(B)/gen/embed_ca.*; touch $@
$(B)/gen/ca_bundle.c: tools/gen_ca.py $(B)/gen/embed_ca.$(EMBED_CA)
	@python3 tools/gen_ca.py $(if $(filter 1,$(EMBED_CA)),$(CA_BUNDLE),--none) > $@
$(B)/obj/ca_bundle.o: $(B)/gen/ca_bundle.c
	@mkdir -p $(@D)
	@$(CC) $(CFLAGS) -Isrc -c $< -o $@

$(B)/obj/%.o: src/%.c $(DEPS) $(B)/gen/embed_ca.$(EMBED_CA)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(KFLAGS) -MMD -MP -c $< -o $@

$(B)/kling-mcp: $(OBJS) $(MBED_LIB)
	@$(CC) $(CFLAGS) -o $@ $(OBJS) $(MBED_LIB) $(LINK)
	@echo "  LD      $@ ($$(stat -c %s $@) bytes)"

$(B)/tests/%: tests/unit/%.c tests/unit/t.h $(LIB_OBJS) $(MBED_LIB)
	@mkdir -p $(@D)
	@$(CC) $(KFLAGS) -Itests/unit -DTEST_CA_BUNDLE='"$(abspath $(CA_BUNDLE))"' -o $@ $< $(LIB_OBJS) $(MBED_LIB) \
	  $(filter-out -s,$(LINK))

unit: $(UNIT_BINS)

# Test programs that are not tests: small drivers that link the library objects
# and exercise one module from the command line, and the server core behind a
# fake backend (tests/lib/NAME.c -> $(B)/tools/NAME, where the suites, the
# benches and tests/mutate.py run them).
TOOL_SRCS  := $(sort $(wildcard tests/lib/*.c))
TOOL_BINS  := $(TOOL_SRCS:tests/lib/%.c=$(B)/tools/%)
$(B)/tools/%: tests/lib/%.c $(wildcard tests/lib/*.h) tests/unit/t.h $(LIB_OBJS) $(MBED_LIB)
	@mkdir -p $(@D)
	@$(CC) $(KFLAGS) -Itests/unit -o $@ $< $(LIB_OBJS) $(MBED_LIB) $(LINK)

# The listener's timers are minutes long (idle sessions live 30 min, SSE
# keep-alive comments every 15 s, a 10 s drain at stop):
# tests/suites/test_listen_timers.py runs $(B)/short/kling-mcp, the same
# product with short ones, a small session table and a small wait pool (for
# tests/suites/test_fair_calls.py). Only the sources that name those limits
# are compiled again; every other object, and the mbedTLS archive, is the
# product's.
SHORT_DEFS := -DLISTEN_SESSION_IDLE_MS=1500 -DLISTEN_SSE_KEEPALIVE_MS=300 -DLIMIT_LISTEN_SESSIONS=8 \
              -DLISTEN_DRAIN_MS=2000 -DLIMIT_WAITS=8
# ... and a project page and icon, so tests see serverInfo's websiteUrl and icons
# (the product has none unless PROJECT_URL / PROJECT_ICON are given).
SHORT_DEFS += -DKLING_PROJECT_URL='"https://kling-mcp.invalid/"' \
              -DKLING_PROJECT_ICON='"https://kling-mcp.invalid/icon.png"'

# mcp_core.h: its struct core holds LIMIT_WAITS call slots, so every core file
# that includes it must see the same value.
SHORT_SRCS := $(shell grep -lE 'LISTEN_SESSION_IDLE_MS|LISTEN_SSE_KEEPALIVE_MS|LIMIT_LISTEN_SESSIONS|LISTEN_DRAIN_MS|LIMIT_WAITS|KLING_PROJECT_URL|mcp_core\.h' $(SRCS))
SHORT_OBJS := $(SHORT_SRCS:src/%.c=$(B)/short/obj/%.o)
$(B)/short/obj/%.o: src/%.c $(DEPS) $(B)/gen/embed_ca.$(EMBED_CA)
	@mkdir -p $(@D)
	@echo "  CC      $< (short timers)"
	@$(CC) $(KFLAGS) $(SHORT_DEFS) -MMD -MP -c $< -o $@
$(B)/short/kling-mcp: $(filter-out $(SHORT_SRCS:src/%.c=$(B)/obj/%.o),$(OBJS)) $(SHORT_OBJS) $(MBED_LIB)
	@$(CC) $(CFLAGS) -o $@ $^ $(LINK)
	@echo "  LD      $@ ($(SHORT_DEFS))"

test: $(B)/kling-mcp $(B)/short/kling-mcp $(UNIT_BINS) $(TOOL_BINS)
	@tools/bootstrap.sh test
	@tests/prepare.sh
	@KLING_MCP=$(abspath $(B)/kling-mcp) KLING_MCP_SHORT=$(abspath $(B)/short/kling-mcp) \
	  BUILD_DIR=$(abspath $(B)) SANITIZE=$(SANITIZE) \
	  KLING_REPRO_VARS='$(REPRO_VARS)' tests/run.sh

demo: $(B)/kling-mcp
	@tools/bootstrap.sh test
	@KLING_MCP=$(abspath $(B)/kling-mcp) tests/demo.sh

# make bench measures the product and three builds of its own under
# build/bench/ (build/ itself is left as it is): EMBED_CA=0 (sharing the
# product's mbedTLS archive), the product linked again without -s (symbols, link
# map), and an unstripped glibc build that callgrind counts instructions of.
BENCH      := build/bench
$(B)/kling-mcp.full: $(OBJS) $(MBED_LIB)
	@$(CC) $(CFLAGS) -o $@ $(OBJS) $(MBED_LIB) $(filter-out -s,$(LINK)) -Wl,-Map,$@.map
bench: $(B)/kling-mcp $(B)/kling-mcp.full $(B)/tools/httpload
	@tools/bootstrap.sh test
	@$(MAKE) --no-print-directory -s B=$(BENCH)/noca EMBED_CA=0 MBED_LIB=$(MBED_LIB) $(BENCH)/noca/kling-mcp
	@$(MAKE) --no-print-directory -s B=$(BENCH)/glibc CC=gcc LINK=-Wl,--gc-sections $(BENCH)/glibc/kling-mcp
	@KLING_MCP=$(abspath $(B)/kling-mcp) BUILD_DIR=$(abspath $(B)) BENCH_DIR=$(abspath $(BENCH)) tests/bench.sh

# Each mutation is built in a private copy (build/mutate/tree): src/ and build/
# are left as they are. Last line "N caught of N"; a survivor fails it.
mutate: $(DEPS)
	@tools/bootstrap.sh test
	@tests/prepare.sh
	@python3 tests/mutate.py

fuzz:
	@tools/bootstrap.sh test
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

# Our code must also build warning-free under clang against musl's headers.
check-clang: $(DEPS)
	@for f in $(SRCS); do clang --target=$(shell uname -m)-linux-musl -nostdinc \
	  -isystem $$(clang -print-resource-dir)/include -isystem /usr/include/$(shell uname -m)-linux-musl \
	  $(filter-out -flto-partition=%,$(KFLAGS)) -fsyntax-only $$f || exit 1; done; echo "clang: $(words $(SRCS)) files clean"

install: $(B)/kling-mcp
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/kling-mcp $(DESTDIR)$(PREFIX)/bin/kling-mcp

# The systemd unit (packaging/systemd), its ExecStart at the installed binary,
# and the example environment file (0600: it will hold the credentials).
.PHONY: install-systemd
install-systemd:
	install -d $(DESTDIR)/etc/systemd/system $(DESTDIR)/etc/kling-mcp
	sed 's|^ExecStart=.*|ExecStart=$(PREFIX)/bin/kling-mcp|' packaging/systemd/kling-mcp.service \
	  >$(DESTDIR)/etc/systemd/system/kling-mcp.service
	install -m 0600 packaging/systemd/kling-mcp.env.example $(DESTDIR)/etc/kling-mcp/kling-mcp.env.example

clean:
	rm -rf build

distclean: clean
	rm -rf dist $(TP)/mbedtls-* $(TP)/jsmn-* $(TP)/.fetched tests/*/node_modules

include tests/reliability.mk
ifeq ($(ARCH),)
include mk/dist.mk
include mk/pkg.mk

# serverInfo's websiteUrl and icons (protocol 2025-11-25 on): PROJECT_URL (mk/pkg.mk)
# and PROJECT_ICON (an image's URL), given to the one source that writes them;
# each left out when empty, and then no flag is added: the same bytes as a build
# that never heard of them. The stamp rebuilds that source when they change.
PROJECT_ICON ?=
URL_DEFS   := $(if $(PROJECT_URL),-DKLING_PROJECT_URL='"$(PROJECT_URL)"') \
              $(if $(PROJECT_ICON),-DKLING_PROJECT_ICON='"$(PROJECT_ICON)"')
URL_STAMP  := $(B)/gen/url.$(if $(strip $(URL_DEFS)),$(shell printf '%s' '$(URL_DEFS)' | md5sum | cut -c1-16),none)
$(URL_STAMP):
	@mkdir -p $(@D); rm -f $(B)/gen/url.*; touch $@
$(B)/obj/mcp.o: KFLAGS += $(URL_DEFS)
$(B)/obj/mcp.o: $(URL_STAMP)
endif

-include $(OBJS:.o=.d) $(SHORT_OBJS:.o=.d)
