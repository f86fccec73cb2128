# busybox ash openwrt_run_init.sh INIT ACTION: what rc.common does for a procd script
# (source it, then run the action's function), with the stubs above.
. "$(dirname "$0")/openwrt_procd_stub.sh"
. "$1"
case "$2" in
start) start_service; echo "RC $?" >>"$STUB_LOG" ;;
triggers) service_triggers ;;
esac
