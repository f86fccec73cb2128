#!/bin/sh
# Fetch, verify and unpack the pinned third-party sources (see PINS).
#   fetch.sh mbedtls   -> third_party/mbedtls-$MBEDTLS_VERSION/
#   fetch.sh jsmn      -> third_party/jsmn-$JSMN_VERSION/jsmn.h
#   fetch.sh musl      -> third_party/musl-$MUSL_VERSION/         (mipsel build only)
#   fetch.sh softfp    -> third_party/softfp-glibc-$SOFTFP_GLIBC_VERSION/ (mipsel build only)
# Downloads are kept in $KLING_FETCH_CACHE (default ~/.cache/kling-mcp) and
# re-verified on every use. The system's apt configuration is never changed:
# apt is pointed at a private source list and lists folder inside the cache.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/PINS"
cache=${KLING_FETCH_CACHE:-${HOME:-/tmp}/.cache/kling-mcp}
mkdir -p "$cache"

say() { echo "fetch: $*" >&2; }
die() { echo "fetch: error: $*" >&2; exit 1; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# verify FILE SHA256: stop the build on a mismatch, naming both hashes.
verify() {
	got=$(sha256_of "$1")
	[ "$got" = "$2" ] && return 0
	die "hash mismatch for $1
  expected sha256 $2 (third_party/PINS)
  found    sha256 $got
Remove the file and try again; if it persists the source is not the pinned release."
}

# The first Debian mirror the machine's apt already uses (falls back to deb.debian.org).
debian_mirror() {
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1=="deb" && $0 ~ /debian/ && $0 !~ /security/ { for (i=2;i<=NF;i++) if ($i ~ /^https?:/) { print $i; exit } }')
	[ -n "$m" ] || m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ && /debian/ && !/security/ { print $2; exit }')
	echo "${m:-http://deb.debian.org/debian}"
}

# Run apt-get with a private configuration rooted in $cache/apt (suite $1, type $2).
apt_private() {
	suite=$1; kind=$2; shift 2
	command -v apt-get >/dev/null 2>&1 || return 1
	a="$cache/apt-$suite-$kind"
	mkdir -p "$a/lists/partial" "$a/parts" "$a/archives/partial"
	# Binary lists for this machine's architecture only: foreign ones added for the
	# cross builds (dpkg --add-architecture) would be fetched for nothing.
	arch=""
	[ "$kind" = deb ] && arch="[arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)] "
	echo "$kind $arch$(debian_mirror) $suite main" >"$a/sources.list"
	opts="-o Dir::Etc::SourceList=$a/sources.list -o Dir::Etc::SourceParts=$a/parts
	      -o Dir::State::Lists=$a/lists -o Dir::Cache::Archives=$a/archives
	      -o APT::Sandbox::User=root -qq"
	# shellcheck disable=SC2086
	apt-get $opts update >/dev/null 2>&1 || return 1
	# shellcheck disable=SC2086
	apt-get $opts "$@"
}

download() { # URL OUT
	if command -v curl >/dev/null 2>&1; then curl -fsSL -o "$2.part" "$1"
	elif command -v wget >/dev/null 2>&1; then wget -q -O "$2.part" "$1"
	else return 1; fi && mv "$2.part" "$2"
}

extract_tar() { # TARBALL DEST_PARENT
	python3 - "$1" "$2" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    names = t.getnames()
    if any(n.startswith("/") or ".." in n.split("/") for n in names):
        sys.exit("fetch: unsafe path in " + sys.argv[1])
    t.extractall(sys.argv[2])
PY
}

fetch_mbedtls() {
	dest="$here/mbedtls-$MBEDTLS_VERSION"
	[ -f "$dest/.verified" ] && return 0
	if [ -n "${MBEDTLS_SRC:-}" ] && [ -d "$MBEDTLS_SRC" ]; then
		say "mbedTLS: using the local tree MBEDTLS_SRC=$MBEDTLS_SRC (not hash-checked)"
		rm -rf "$dest"; ln -s "$(cd "$MBEDTLS_SRC" && pwd)" "$dest"
		return 0
	fi
	tb="$cache/$MBEDTLS_TARBALL"
	if [ -n "${MBEDTLS_SRC:-}" ]; then
		cp "$MBEDTLS_SRC" "$tb"
	elif [ -f "$tb" ] && [ "$(sha256_of "$tb")" = "$MBEDTLS_SHA256" ]; then
		say "mbedTLS: cached $tb"
	else
		rm -f "$tb"
		say "mbedTLS $MBEDTLS_VERSION: from Debian's source package ($MBEDTLS_DEB_SUITE)"
		(cd "$cache" && apt_private "$MBEDTLS_DEB_SUITE" deb-src source --download-only \
			"mbedtls=$MBEDTLS_DEB_VERSION" >/dev/null 2>&1) || true
		if [ ! -f "$tb" ]; then
			say "mbedTLS: apt did not deliver it; trying $MBEDTLS_UPSTREAM_URL"
			download "$MBEDTLS_UPSTREAM_URL" "$tb" || die "could not fetch mbedTLS $MBEDTLS_VERSION (set MBEDTLS_SRC=<tree or tarball>)"
		fi
	fi
	verify "$tb" "$MBEDTLS_SHA256"
	rm -rf "$dest" "$here/.mbedtls-unpack"; mkdir -p "$here/.mbedtls-unpack"
	extract_tar "$tb" "$here/.mbedtls-unpack"
	mv "$here/.mbedtls-unpack/mbedtls-$MBEDTLS_VERSION" "$dest"
	rm -rf "$here/.mbedtls-unpack"
	echo "$MBEDTLS_SHA256" >"$dest/.verified"
	say "mbedTLS $MBEDTLS_VERSION verified and unpacked"
}

fetch_jsmn() {
	dest="$here/jsmn-$JSMN_VERSION"
	[ -f "$dest/jsmn.h" ] && [ "$(sha256_of "$dest/jsmn.h")" = "$JSMN_SHA256" ] && return 0
	h="$cache/jsmn-$JSMN_VERSION.h"
	if [ -n "${JSMN_SRC:-}" ]; then
		if [ -d "$JSMN_SRC" ]; then cp "$JSMN_SRC/jsmn.h" "$h"; else cp "$JSMN_SRC" "$h"; fi
	elif [ -f "$h" ] && [ "$(sha256_of "$h")" = "$JSMN_SHA256" ]; then
		:
	else
		rm -f "$h"
		say "jsmn $JSMN_VERSION: from Debian's $JSMN_DEB_PACKAGE"
		w="$cache/jsmn-deb"; rm -rf "$w"; mkdir -p "$w"
		if (cd "$w" && apt-get -qq download "$JSMN_DEB_PACKAGE=$JSMN_DEB_VERSION" >/dev/null 2>&1) ||
		   (cd "$w" && apt_private bookworm deb download "$JSMN_DEB_PACKAGE=$JSMN_DEB_VERSION" >/dev/null 2>&1); then
			deb=$(ls "$w"/*.deb | head -n 1)
			(cd "$w" && dpkg-deb -x "$deb" x 2>/dev/null || { ar x "$deb" && tar xf data.tar.* -C . && mkdir -p x && cp -r usr x/; })
			cp "$w/x/usr/include/jsmn.h" "$h" 2>/dev/null || true
		fi
		if [ ! -f "$h" ]; then
			say "jsmn: apt did not deliver it; trying $JSMN_UPSTREAM_URL"
			download "$JSMN_UPSTREAM_URL" "$h" || die "could not fetch jsmn $JSMN_VERSION (set JSMN_SRC=<jsmn.h>)"
		fi
		rm -rf "$w"
	fi
	verify "$h" "$JSMN_SHA256"
	mkdir -p "$dest"; cp "$h" "$dest/jsmn.h"
	say "jsmn $JSMN_VERSION verified"
}

fetch_musl() {
	dest="$here/musl-$MUSL_VERSION"
	[ -f "$dest/.verified" ] && return 0
	tb="$cache/$MUSL_TARBALL"
	if [ -n "${MUSL_SRC:-}" ]; then
		cp "$MUSL_SRC" "$tb"
	elif [ -f "$tb" ] && [ "$(sha256_of "$tb")" = "$MUSL_SHA256" ]; then
		say "musl: cached $tb"
	else
		rm -f "$tb"
		say "musl $MUSL_VERSION: from Debian's source package ($MUSL_DEB_SUITE)"
		(cd "$cache" && apt_private "$MUSL_DEB_SUITE" deb-src source --download-only \
			"musl=$MUSL_DEB_VERSION" >/dev/null 2>&1) || true
		if [ ! -f "$tb" ]; then
			say "musl: apt did not deliver it; trying $MUSL_UPSTREAM_URL"
			download "$MUSL_UPSTREAM_URL" "$tb" || die "could not fetch musl $MUSL_VERSION (set MUSL_SRC=<tarball>)"
		fi
	fi
	verify "$tb" "$MUSL_SHA256"
	rm -rf "$dest" "$here/.musl-unpack"; mkdir -p "$here/.musl-unpack"
	extract_tar "$tb" "$here/.musl-unpack"
	mv "$here/.musl-unpack/musl-$MUSL_VERSION" "$dest"
	rm -rf "$here/.musl-unpack"
	echo "$MUSL_SHA256" >"$dest/.verified"
	say "musl $MUSL_VERSION verified and unpacked"
}

# tree_sha DIR: one sha256 over a folder's files — `sha256sum` of each file
# (path relative to DIR), sorted by path, then hashed. .verified is left out.
tree_sha() {
	(cd "$1" && find . -type f ! -name .verified | LC_ALL=C sort | xargs sha256sum) |
		sha256sum | cut -d' ' -f1
}

# What the mipsel build takes from glibc: the soft-fp routines, the MIPS o32
# machine header, longlong.h (umul_ppmm) and the licence text.
SOFTFP_MEMBERS="soft-fp sysdeps/mips/mips32/sfp-machine.h stdlib/longlong.h COPYING.LIB"

fetch_softfp() {
	dest="$here/softfp-glibc-$SOFTFP_GLIBC_VERSION"
	[ -f "$dest/.verified" ] && return 0
	c="$cache/softfp-glibc-$SOFTFP_GLIBC_VERSION"
	top="glibc-$SOFTFP_GLIBC_VERSION"
	members=""
	for m in $SOFTFP_MEMBERS; do members="$members $top/$m"; done
	if [ -d "$c" ] && [ -z "${SOFTFP_SRC:-}" ] && [ "$(tree_sha "$c")" = "$SOFTFP_FILES_SHA256" ]; then
		say "soft-fp: cached $c"
	else
		rm -rf "$c" "$c.part"; mkdir -p "$c.part"
		w="$cache/glibc-deb"; rm -rf "$w"; mkdir -p "$w"
		# shellcheck disable=SC2086
		if [ -n "${SOFTFP_SRC:-}" ]; then
			xz -dc "$SOFTFP_SRC" | tar -x -C "$c.part" --strip-components=1 $members ||
				die "could not read $members from SOFTFP_SRC=$SOFTFP_SRC"
		elif say "soft-fp: from Debian's $SOFTFP_DEB_PACKAGE ($SOFTFP_DEB_SUITE)" &&
			{ (cd "$w" && apt-get -qq download "$SOFTFP_DEB_PACKAGE" >/dev/null 2>&1) ||
			  (cd "$w" && apt_private "$SOFTFP_DEB_SUITE" deb download "$SOFTFP_DEB_PACKAGE" >/dev/null 2>&1); }; then
			deb=$(ls "$w"/*.deb | head -n 1)
			dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/glibc/$top.tar.xz" |
				xz -dc | tar -x -C "$c.part" --strip-components=1 $members ||
				die "could not read $members from $deb"
		else
			say "soft-fp: apt did not deliver it; trying $SOFTFP_UPSTREAM_URL"
			download "$SOFTFP_UPSTREAM_URL" "$w/$top.tar.xz" ||
				die "could not fetch glibc $SOFTFP_GLIBC_VERSION (set SOFTFP_SRC=<glibc tarball>)"
			xz -dc "$w/$top.tar.xz" | tar -x -C "$c.part" --strip-components=1 $members ||
				die "could not read $members from $w/$top.tar.xz"
		fi
		rm -rf "$w"
		mv "$c.part" "$c"
	fi
	got=$(tree_sha "$c")
	[ "$got" = "$SOFTFP_FILES_SHA256" ] || die "hash mismatch for the soft-fp files in $c
  expected tree sha256 $SOFTFP_FILES_SHA256 (third_party/PINS)
  found    tree sha256 $got
Remove the folder and try again; if it persists the source is not glibc $SOFTFP_GLIBC_VERSION."
	rm -rf "$dest"; cp -R "$c" "$dest"
	echo "$got" >"$dest/.verified"
	say "soft-fp from glibc $SOFTFP_GLIBC_VERSION verified"
}

case "${1:-}" in
mbedtls) fetch_mbedtls ;;
jsmn) fetch_jsmn ;;
musl) fetch_musl ;;
softfp) fetch_softfp ;;
all) fetch_mbedtls; fetch_jsmn ;;
*) die "usage: fetch.sh mbedtls|jsmn|all|musl|softfp" ;;
esac
