# A stand-in for OpenWrt's /etc/rc.common, /lib/functions.sh (config_load,
# config_get, config_get_bool) and /lib/functions/procd.sh (procd_open_instance,
# procd_set_param, procd_append_param, procd_close_instance,
# procd_add_reload_trigger), sourced by BusyBox ash before the init script.
# Each procd call is recorded as one line in $STUB_LOG: "CALL arg|arg|...";
# logger lines as "LOG tag: message". config_load reads a uci file
# ($STUB_CONFIG) of "config TYPE 'NAME'" and "option KEY 'VALUE'" lines, as uci
# does for the simple values this script uses.
_rec() { local IFS='|'; echo "$*" >>"$STUB_LOG"; }
config_load() {
	local line kw key val section=""
	while IFS= read -r line; do
		set -- $line
		kw=$1; key=$2; shift 2 2>/dev/null
		val=$*; val=${val#\'}; val=${val%\'}
		case "$kw" in
		config) section=$(echo "$val" | tr -c 'a-zA-Z0-9_\n' _) ;;
		option) eval "CONFIG_${section}_${key}=\$val" ;;
		esac
	done <"$STUB_CONFIG"
}
config_get() { # VAR SECTION OPTION [DEFAULT]: like functions.sh, default when unset
	local _v
	eval "_v=\${CONFIG_${2}_${3}-}"
	eval "$1=\${_v:-\$4}"
}
config_get_bool() {
	local _b
	config_get _b "$2" "$3" "$4"
	case "$_b" in 1 | on | true | yes | enabled) _b=1 ;; *) _b=0 ;; esac
	eval "$1=\$_b"
}
logger() { shift; shift; echo "LOG kling-mcp: $*" >>"$STUB_LOG"; }
procd_open_instance() { _rec procd_open_instance "$@"; }
procd_close_instance() { _rec procd_close_instance "$@"; }
procd_set_param() { _rec procd_set_param "$@"; }
procd_append_param() { _rec procd_append_param "$@"; }
procd_add_reload_trigger() { _rec procd_add_reload_trigger "$@"; }
