#!/usr/bin/env bash
# Make a headless Chromium available for tests/test_report_browser.py (renders the HTML report the
# way a reader's browser does).
#
#   tools/setup_chromium.sh            (the Makefile's test target calls it)
#
# Idempotent: exits at once when `chromium` (or $LEWIE_CHROMIUM) runs. Otherwise, as root with
# apt-get, installs Debian's `chromium` package (running `apt-get update` first if the install
# fails). When it cannot, it prints one line saying why and exits 0 (the browser test then skips),
# unless CI=true (then it exits 1: CI must render the report).
set -u -o pipefail
export DEBIAN_FRONTEND=noninteractive
START=$(date +%s)
LOG=${TMPDIR:-/tmp}/setup_chromium.log

required() { [ "${CI:-}" = "true" ]; }
give_up() {
    if required; then echo "setup_chromium: FAILED: $1 (see $LOG)" >&2; exit 1; fi
    echo "setup_chromium: skipped: $1 -- the browser test will be skipped"; exit 0
}
found() {
    local c
    for c in "${LEWIE_CHROMIUM:-}" chromium chromium-browser; do
        [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 && "$c" --version >/dev/null 2>&1 && { command -v "$c"; return 0; }
    done
    return 1
}

if BIN=$(found); then
    echo "setup_chromium: already installed: $("$BIN" --version 2>/dev/null) [$(( $(date +%s) - START ))s]"
    exit 0
fi
{ [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; } || give_up "chromium is not installed and this is not root with apt-get"
A=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300)
echo "=== $(date -u +%FT%TZ) apt-get install chromium" >>"$LOG"
if ! apt-get install "${A[@]}" chromium >>"$LOG" 2>&1; then
    apt-get update -q -o DPkg::Lock::Timeout=300 >>"$LOG" 2>&1 || give_up "apt-get update failed"
    apt-get install "${A[@]}" chromium >>"$LOG" 2>&1 || give_up "apt-get install chromium failed"
fi
BIN=$(found) || give_up "chromium installed but does not run"
echo "setup_chromium: ready: $("$BIN" --version 2>/dev/null) [$(( $(date +%s) - START ))s]"
