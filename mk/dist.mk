# make dist: the release files, each built twice and compared byte for byte.
#
#   dist/kling-mcp-<version>-linux-<arch>   x86_64 aarch64 armv7 mipsel mips
#   dist/kling-mcp_<VERSION>_<arch>.ipk     OpenWrt packages; kling-mcp-<VERSION>-oci.tar, server.json (mk/pkg.mk)
#   dist/SHA256SUMS                         every other file; `cd dist && sha256sum -c SHA256SUMS` checks them
#   dist/BUILDINFO                          commit, date, and the Debian packages that decide the bytes
#
# <version> is the Makefile's VERSION; in a git checkout, `git describe` adds
# where the commit stands: 0.1.0 on the tag v0.1.0, 0.1.0-3-g<commit> three
# commits after it, 0.1.0-g<commit> when no tag is reachable, and -dirty when
# the tree has changes that are not committed. The binaries' own --version says
# VERSION only, so the same source gives the same bytes with or without git.
#
# Reproducibility is what makes the checksums worth publishing: anyone can
# rebuild the same bytes from the same commit (with Debian 12's toolchains and
# CA bundle). So make dist builds every architecture twice: in this tree
# (build/, incrementally, as `make` and `make ARCH=...` do), and afresh in
# build/dist-src, a copy of the tree at another path, built later, with
# nothing from build/ (its own mbedTLS objects and soft-float sysroots). Every
# pair must be byte-identical, or make dist fails naming the architecture and
# keeps build/dist-src for a look (cmp -l). The copy's binaries go to dist/.
# Included at the end of the Makefile when no ARCH is given.

DIST_ARCHS := $(shell uname -m) $(CROSS_ARCHS)
DIST_SRC   := build/dist-src
# The Debian packages whose versions decide the bytes (written to dist/BUILDINFO).
DIST_PACKAGES := gcc-12 binutils musl-tools musl-dev ca-certificates gcc-12-aarch64-linux-gnu musl-dev:arm64 \
                 gcc-12-arm-linux-gnueabihf musl-dev:armhf gcc-12-mipsel-linux-gnu gcc-12-mips-linux-gnu \
                 binutils-aarch64-linux-gnu binutils-arm-linux-gnueabihf binutils-mipsel-linux-gnu binutils-mips-linux-gnu
DIST_GIT   = $(shell git describe --tags --always --dirty --abbrev=12 --match 'v[0-9]*' 2>/dev/null)
DIST_VERSION = $(strip $(if $(DIST_GIT),$(if $(filter v$(VERSION),$(DIST_GIT)),$(VERSION),$(if \
               $(filter v$(VERSION)-%,$(DIST_GIT)),$(patsubst v%,%,$(DIST_GIT)),$(VERSION)-g$(DIST_GIT))),$(VERSION)))

.PHONY: dist dist-version
dist-version:
	@echo $(DIST_VERSION)

dist:
	@[ "$(shell uname -m)" = x86_64 ] || { echo "make dist: the cross toolchains are Debian's x86-64 packages: run it on x86-64" >&2; exit 1; }
	@echo "  DIST    kling-mcp $(DIST_VERSION): building in this tree"
	@$(MAKE) --no-print-directory -s $(REPRO_VARS) all
	@for a in $(CROSS_ARCHS); do $(MAKE) --no-print-directory -s $(REPRO_VARS) ARCH=$$a all || exit 1; done
	@echo "  DIST    building again from scratch in $(DIST_SRC)"
	@rm -rf $(DIST_SRC); mkdir -p $(DIST_SRC)
	@tar -cf - --exclude=./build --exclude=./dist --exclude=./.git --exclude=node_modules . | tar -xf - -C $(DIST_SRC)
	@$(MAKE) --no-print-directory -C $(DIST_SRC) $(REPRO_VARS) all
	@for a in $(CROSS_ARCHS); do $(MAKE) --no-print-directory -C $(DIST_SRC) $(REPRO_VARS) ARCH=$$a all || exit 1; done
	@bad=""; for a in $(DIST_ARCHS); do \
	  d=build/$$a; [ $$a = "$(shell uname -m)" ] && d=build; \
	  if cmp -s $$d/kling-mcp $(DIST_SRC)/$$d/kling-mcp; then \
	    printf '  SAME    %-8s %s bytes, %s\n' $$a "$$(stat -c %s $$d/kling-mcp)" "$$(sha256sum <$$d/kling-mcp | cut -c1-16)"; \
	  else echo "  DIFFER  $$a: $$d/kling-mcp and $(DIST_SRC)/$$d/kling-mcp (cmp -l shows where)" >&2; bad="$$bad $$a"; fi; \
	done; [ -z "$$bad" ] || { echo "make dist: not reproducible:$$bad" >&2; exit 1; }
	@rm -rf dist; mkdir dist
	@for a in $(DIST_ARCHS); do \
	  d=build/$$a; [ $$a = "$(shell uname -m)" ] && d=build; \
	  cp $(DIST_SRC)/$$d/kling-mcp dist/kling-mcp-$(DIST_VERSION)-linux-$$a; chmod 0755 dist/kling-mcp-$(DIST_VERSION)-linux-$$a; \
	done
	@$(MAKE) --no-print-directory -s $(REPRO_VARS) DIST_VERSION=$(DIST_VERSION) PKG_DIR=dist BIN_DIR=dist packages
	@{ echo "kling-mcp $(DIST_VERSION)"; \
	   echo "commit $(or $(shell git rev-parse HEAD 2>/dev/null),none) SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH)"; \
	   echo "built on Debian $$(cat /etc/debian_version 2>/dev/null || echo '?'), EMBED_CA=$(EMBED_CA)"; \
	   [ "$(EMBED_CA)" != 1 ] || echo "CA bundle $(CA_BUNDLE) sha256 $$(sha256sum <$(CA_BUNDLE) | cut -d' ' -f1)"; \
	   echo "packages:"; dpkg-query -W $(DIST_PACKAGES) 2>/dev/null | sed 's/^/  /'; } >dist/BUILDINFO
	@cd dist && export LC_ALL=C && sha256sum $$(ls | grep -vx SHA256SUMS) >SHA256SUMS && sha256sum -c --quiet SHA256SUMS
	@rm -rf $(DIST_SRC)
	@echo "  DIST    dist/ ($(words $(DIST_ARCHS)) binaries, byte-identical in both builds, packages; SHA256SUMS verified; BUILDINFO):"
	@cd dist && ls -l | awk 'NR > 1 { printf "          %-52s %9s bytes\n", $$9, $$5 }'
