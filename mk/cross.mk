# Cross builds for routers and other small devices. Included by the Makefile
# right after the native variables are set; it changes only B, CC, AR, TARGET,
# and adds the architecture's flags, so sources, hardening and the mbedTLS
# config stay the native build's.
#
#   make ARCH=aarch64   build/aarch64/kling-mcp  ARMv8-A                 (Debian's musl-dev:arm64)
#   make ARCH=armv7     build/armv7/kling-mcp    ARMv7-A, VFPv3, Thumb-2 (Debian's musl-dev:armhf)
#   make ARCH=mipsel    build/mipsel/kling-mcp   MIPS32r2 little-endian, soft-float: runs on FPU-less cores
#                       (musl rebuilt soft-float by tools/musl-softfloat.sh in build/mipsel/sysroot)
#   make ARCH=mips      build/mips/kling-mcp     MIPS32r2 big-endian, soft-float (OpenWrt's mips_24kc:
#                       ath79); built exactly like mipsel, with Debian's big-endian mips-linux-gnu-gcc
#   make cross          all four, with their unit tests (build/<arch>/tests), then their sizes
#   make ARCH=... unit  the C unit tests for that architecture (tests/suites/test_cross.sh runs them)
# Each build also writes build/<arch>/kling-mcp.qemu, a script that runs the
# binary under qemu user emulation on the CPU named below, so any test suite
# that spawns $KLING_MCP runs emulated with KLING_MCP=build/<arch>/kling-mcp.qemu.
# A missing toolchain is installed by `tools/bootstrap.sh cross <arch>` (as
# root; otherwise it prints the command).

CROSS_ARCHS := aarch64 armv7 mipsel mips

ifneq ($(ARCH),)
ifeq ($(filter $(ARCH),$(CROSS_ARCHS)),)
$(error ARCH=$(ARCH): choose one of $(CROSS_ARCHS))
endif
ifeq ($(SANITIZE),1)
$(error SANITIZE=1 builds for this machine: leave ARCH out)
endif
ifneq ($(filter test demo bench fuzz check-clang,$(MAKECMDGOALS)),)
$(error make $(filter test demo bench fuzz check-clang,$(MAKECMDGOALS)) runs on this machine: \
  `make test` already tests build/$(ARCH) (tests/suites/test_cross.sh), and any suite runs \
  emulated with KLING_CROSS_ARCH=$(ARCH) KLING_MCP=$$PWD/build/$(ARCH)/kling-mcp.qemu TEST_FILTER=suite/ tests/run.sh)
endif

B := build/$(ARCH)
ifeq ($(ARCH),aarch64)
CROSS_TOOL := aarch64-linux-gnu-
CC         := aarch64-linux-musl-gcc
TARGET     := aarch64-linux-musl
ARCH_FLAGS :=
# Cortex-A53: the common ARMv8 router and board core (MT7622, IPQ807x, BCM2837).
QEMU       := qemu-aarch64-static -cpu cortex-a53
else ifeq ($(ARCH),armv7)
# The armhf ABI passes floats in VFP registers, so its floor is ARMv7-A with
# VFPv3-D16 ("+fp"); gcc refuses a plain -march=armv7-a with -mfloat-abi=hard.
CROSS_TOOL := arm-linux-gnueabihf-
CC         := arm-linux-musleabihf-gcc
TARGET     := armv7-linux-musleabihf
ARCH_FLAGS := -march=armv7-a+fp
QEMU       := qemu-arm-static -cpu cortex-a7
else ifeq ($(ARCH),mipsel)
CROSS_TOOL := mipsel-linux-gnu-
CC         := $(B)/sysroot/bin/mipsel-linux-muslsf-gcc
TARGET     := mipsel-linux-muslsf
ARCH_FLAGS := -march=mips32r2 -msoft-float
# 24Kc has no FPU, like the 1004Kc of the MT7621 and the 24KEc of the MT7620/MT7628.
QEMU       := qemu-mipsel-static -cpu 24Kc
else ifeq ($(ARCH),mips)
# The same build, big-endian: OpenWrt's mips_24kc (ath79: AR71xx/AR93xx, QCA95xx, 24Kc, no FPU).
CROSS_TOOL := mips-linux-gnu-
CC         := $(B)/sysroot/bin/mips-linux-muslsf-gcc
TARGET     := mips-linux-muslsf
ARCH_FLAGS := -march=mips32r2 -msoft-float
QEMU       := qemu-mips-static -cpu 24Kc
endif
ifneq ($(filter mipsel mips,$(ARCH)),)
# ld warns that gcc's crtbeginS/crtendS and libgcc's 64-bit division helpers are
# tagged hard-float: they contain no FPU instruction (gcc tags every object), and
# tests/suites/test_cross.sh disassembles the whole binary to prove it.
LINK       += -Wl,--no-warn-mismatch
endif
AR  := $(CROSS_TOOL)ar
OPT := $(OPT) $(ARCH_FLAGS)

# The toolchain must exist before anything compiles. Make first brings every
# included makefile up to date, then starts again reading them: so the stamp
# below is built (toolchain installed; for mipsel and mips also the soft-float sysroot)
# before any goal. It also waits for the sources to be fetched: make caches
# directory listings, so in the run that fetches mbedTLS the Makefile's
# $(wildcard .../library/*.c) would see none, and its sub-make would build
# `all` a second time alongside the first (two compilers on one object file).
ifeq ($(filter clean distclean,$(MAKECMDGOALS)),)
ifneq ($(filter mipsel mips,$(ARCH)),)
include $(B)/sysroot/ready.mk
else
include $(B)/toolchain.mk
endif
endif

$(B)/toolchain.mk: tools/bootstrap.sh $(TP)/.fetched
	@tools/bootstrap.sh cross $(ARCH)
	@mkdir -p $(@D)
	@echo '# $(ARCH): tools/bootstrap.sh cross $(ARCH) found the toolchain. Written by mk/cross.mk.' >$@

$(B)/sysroot/ready.mk: $(B)/toolchain.mk tools/musl-softfloat.sh mk/softfp/sfp-machine.h \
		$(TP)/PINS $(TP)/fetch.sh
	@tools/musl-softfloat.sh $(B)/sysroot $(ARCH)
	@echo '# $(ARCH): soft-float sysroot built by tools/musl-softfloat.sh. Written by mk/cross.mk.' >$@

all: $(B)/kling-mcp.qemu
$(B)/kling-mcp.qemu: mk/cross.mk
	@mkdir -p $(@D)
	@{ echo '#!/bin/sh'; \
	   echo '# Runs build/$(ARCH)/kling-mcp under qemu user emulation, on a CPU like the'; \
	   echo '# devices'"'"': KLING_MCP=$$PWD/$@ points a test suite at it. Written by mk/cross.mk.'; \
	   echo 'exec $(QEMU) "$$(dirname "$$0")/kling-mcp" "$$@"'; } >$@
	@chmod +x $@

else # no ARCH: the targets that drive the cross builds

.PHONY: cross cross-refresh cross-distclean
cross:
	@for a in $(CROSS_ARCHS); do $(MAKE) --no-print-directory ARCH=$$a all unit || exit 1; done
	@for a in $(CROSS_ARCHS); do \
	  printf '  %-8s build/%s/kling-mcp  %s bytes\n' $$a $$a "$$(stat -c %s build/$$a/kling-mcp)"; done

# make test brings the cross binaries that exist up to date (an incremental
# build), so the cross suite never tests a stale one; it builds none from
# scratch: `make cross` does that (a cold build of all four takes minutes).
test: cross-refresh
cross-refresh:
	@[ "$(SANITIZE)" = 1 ] || for a in $(CROSS_ARCHS); do \
	  if [ -f build/$$a/kling-mcp ]; then $(MAKE) --no-print-directory -s ARCH=$$a all unit || exit 1; fi; done

distclean: cross-distclean
cross-distclean:
	rm -rf $(TP)/musl-* $(TP)/softfp-* $(TP)/.musl-unpack

endif

# The targets above must not become the default goal: `make` stays `make all`.
.DEFAULT_GOAL :=
