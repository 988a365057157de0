#!/usr/bin/env bash
# The real-browser end-to-end suite (issue 7): installs what is missing (setup.sh), then runs suite.mjs:
# headless Debian chromium -> consentgate -> the fake web, in every consent scenario, enforce and
# report-only, HTTP and HTTPS (the HTTPS variants are skipped, saying why, until consentgate intercepts TLS).
#
#   tests/e2e/run.sh [--consentgate PATH] [suite.mjs options: --only NAME --keep --verbose]
#
# Without --consentgate: $CONSENTGATE, else the first built binary among build/test, build/release, build.
# Exit status: 0 all passed (or SKIP: chromium cannot be installed), non-zero on any failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

consentgate="${CONSENTGATE:-}"
pass=()
while (($#)); do
  case "$1" in
    --consentgate) consentgate="$2"; shift 2 ;;
    --consentgate=*) consentgate="${1#*=}"; shift ;;
    *) pass+=("$1"); shift ;;
  esac
done
if [[ -z "$consentgate" ]]; then
  for c in build/test build/release build/e2e build; do
    if [[ -x "$repo/$c/proxy/consentgate" ]]; then consentgate="$repo/$c/proxy/consentgate"; break; fi
  done
fi
if [[ -z "$consentgate" || ! -x "$consentgate" ]]; then
  echo "e2e: no consentgate binary (build the consentgate target, or pass --consentgate PATH)" >&2
  exit 1
fi
consentgate=$(cd "$(dirname "$consentgate")" && pwd)/$(basename "$consentgate")

status=0
"$here/setup.sh" || status=$?
if ((status == 3)); then
  echo "SKIP: e2e: chromium cannot be installed on this machine (see the setup message above)"
  exit 0
elif ((status != 0)); then
  echo "e2e: setup failed (status $status)" >&2
  exit "$status"
fi

# A sanitizer build must not abort the suite on a leak report at exit, nor stop on the first UB warning
# of a third-party library; the proxy's own behaviour is what is under test here.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"

# node runs in the foreground of this script's process group; its own handlers kill the consentgate
# processes it started (by PID), and playwright closes chromium. A signal to us is passed on to it.
node "$here/suite.mjs" --consentgate "$consentgate" ${pass[@]+"${pass[@]}"} &
suite=$!
trap 'kill -TERM "$suite" 2>/dev/null || true' INT TERM
set +e
wait "$suite"
rc=$?
while kill -0 "$suite" 2>/dev/null; do # a signal interrupted wait: let node finish its cleanup
  wait "$suite"
  rc=$?
done
exit "$rc"
