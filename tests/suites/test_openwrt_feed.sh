#!/bin/sh
# packaging/openwrt/Makefile (the feed package) cannot be built here (it needs
# the OpenWrt SDK): these checks keep it in step with the top Makefile and
# with the .ipk that make ipk writes.
. "$(dirname "$0")/../lib/kt.sh"
plan 4
top=$(cd "$(dirname "$0")/../.." && pwd)
feed=$top/packaging/openwrt/Makefile
v=$(sed -n 's/^VERSION *:= *//p' "$top/Makefile")
fv=$(sed -n 's/^PKG_VERSION:=//p' "$feed")
[ -n "$v" ] && [ "$v" = "$fv" ] && pass "feed/PKG_VERSION is the Makefile's VERSION ($v)" ||
	fail "feed/PKG_VERSION is the Makefile's VERSION" "VERSION=$v PKG_VERSION=$fv"
# every variable the feed passes must be one the top Makefile reads
missing=""
for var in $(sed -n 's/.*\b\([A-Z_]*\)="\$(.*/\1/p; s/^\t\([A-Z_]*\)=.*/\1/p' "$feed" | sort -u) CC AR TARGET EMBED_CA OPT LINK; do
	grep -Eq "^$var +[:?]?=" "$top/Makefile" || missing="$missing $var"
done
[ -z "$missing" ] && pass "feed/passes only variables the Makefile reads" || fail "feed/passes only variables the Makefile reads" "$missing"
grep -q '^/etc/config/kling-mcp$' "$feed" && grep -q 'USERID:=kling-mcp:kling-mcp' "$feed" &&
	grep -q 'Require-User: kling-mcp:kling-mcp' "$top/tools/package.py" && grep -q '/etc/config/kling-mcp' "$top/tools/package.py" &&
	pass "feed/same conffile and user as the .ipk" || fail "feed/same conffile and user as the .ipk" "differs"
grep -q '0600.*files/kling-mcp.config' "$feed" && grep -q '"./etc/config/kling-mcp", .*0o600' "$top/tools/package.py" &&
	pass "feed/config installed 0600 in both" || fail "feed/config installed 0600 in both" "mode differs"
