# The packages around the binaries (tools/package.py writes them, byte for
# byte the same from the same binaries):
#
#   make ipk          build/pkg/kling-mcp_<VERSION>_<arch>.ipk, one per OpenWrt package architecture
#   make oci          build/pkg/kling-mcp-<VERSION>-oci.tar, the multi-platform OCI image archive
#   make server-json  build/pkg/server.json, the MCP Registry entry
#   make packages     all three; make dist writes them into dist/ from the release binaries
#
# They take the binaries of every architecture that is built (make, make cross).
# <VERSION> is the Makefile's VERSION alone: one numeric version that opkg, apk,
# image tags and the registry all accept (git describe's -g<commit> is not one).
# Settings: IMAGE (the reference a release pushes), PROJECT_URL (the image's
# source label and the server's websiteUrl; left out when empty), MCP_NAME
# (the registry name, also the image's io.modelcontextprotocol.server.name
# label), PKG_LICENSE (an SPDX expression).

IMAGE       ?= ghcr.io/kling-mcp/kling-mcp
PROJECT_URL ?=
MCP_NAME    ?= io.github.kling-mcp/kling-mcp
PKG_LICENSE ?= NOASSERTION
PKG_DIR     ?= build/pkg
PKG_REVISION = $(or $(shell git rev-parse HEAD 2>/dev/null),unknown)
# BIN_DIR=dist: the release binaries; else this tree's builds.
pkg_bins = $(foreach a,$(shell uname -m) $(CROSS_ARCHS),$(if $(wildcard $(call pkg_bin,$(1),$(a))),$(a)=$(call pkg_bin,$(1),$(a))))
pkg_bin  = $(if $(1),$(1)/kling-mcp-$(DIST_VERSION)-linux-$(2),$(if $(filter $(2),$(shell uname -m)),build,build/$(2))/kling-mcp)
PKG_ENV  = MCP_NAME='$(MCP_NAME)' PKG_LICENSE='$(PKG_LICENSE)'

.PHONY: ipk oci server-json packages
ipk oci server-json: $(B)/kling-mcp
packages: ipk oci server-json
ipk:
	@mkdir -p $(PKG_DIR)
	@$(PKG_ENV) python3 tools/package.py ipk $(PKG_DIR) $(VERSION) $(call pkg_bins,$(BIN_DIR))
oci:
	@mkdir -p $(PKG_DIR)
	@$(PKG_ENV) python3 tools/package.py oci $(PKG_DIR)/kling-mcp-$(VERSION)-oci.tar $(VERSION) $(PKG_REVISION) \
	  '$(PROJECT_URL)' '$(IMAGE)' $(call pkg_bins,$(BIN_DIR))
server-json:
	@mkdir -p $(PKG_DIR)
	@$(PKG_ENV) python3 tools/package.py server-json $(PKG_DIR)/server.json $(VERSION) '$(PROJECT_URL)' '$(IMAGE)'
