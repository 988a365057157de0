#!/bin/sh
# Runs the real binary: `consentgate import` on the fixtures, then `consentgate check-config` on a
# config that loads the pack's purposes and the imported files. Usage: import_cli_test.sh CONSENTGATE
# SOURCE_DIR. Everything is written under a temporary directory, removed at the end.
set -u
bin=$1
src=$2
fx=$src/tests/pack/fixtures
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$work/stdout err=$work/stderr
failures=0

run() {  # run EXPECTED_STATUS ARGS...
  expected=$1
  shift
  "$bin" "$@" >"$out" 2>"$err"
  status=$?
  if [ "$status" -ne "$expected" ]; then
    echo "FAIL: consentgate $*: exit status $status, expected $expected"
    sed 's/^/  stdout: /' "$out"
    sed 's/^/  stderr: /' "$err"
    failures=$((failures + 1))
  fi
}
has_line() {  # has_line FILE LINE
  if ! grep -qxF -- "$2" "$1"; then
    echo "FAIL: missing line in $(basename "$1"): $2"
    sed 's/^/  got: /' "$1"
    failures=$((failures + 1))
  fi
}
absent() {  # absent PATH: the file must not exist
  if [ -e "$1" ]; then
    echo "FAIL: $1 was written"
    failures=$((failures + 1))
  fi
}

mkdir -p "$work/policies"
cp "$src/config/policies/purposes.yaml" "$work/policies/00-purposes.yaml"

# Disconnect: written atomically, deterministic, problems as warnings on stderr.
run 0 import disconnect "$fx/disconnect-small.json" -o "$work/policies/disconnect.yaml"
has_line "$err" "consentgate import: 5 trackers, 7 of 7 domains, 0 of 0 cookies -> $work/policies/disconnect.yaml"
has_line "$err" "  skipped 2: category skipped by the purpose map"
has_line "$err" "$fx/disconnect-small.json: warning: categories.Brand New Category: category has no purpose; skipped (map it with --map 'Brand New Category=PURPOSE')"
has_line "$work/policies/disconnect.yaml" "  - id: disconnect-replayco-session-replay"
has_line "$work/policies/disconnect.yaml" "    source: 'Disconnect services.json, Advertising: Adnet Example'"
run 0 import disconnect "$fx/disconnect-small.json" -q
if ! cmp -s "$out" "$work/policies/disconnect.yaml"; then
  echo "FAIL: the same import to stdout differs from the file"
  failures=$((failures + 1))
fi

# Open Cookie Database, deduplicated against a small existing pack.
run 0 import ocd "$fx/ocd-small.csv" --against "$fx/against" -o "$work/policies/ocd.yaml"
has_line "$err" "consentgate import: 3 trackers, 0 of 0 domains, 4 of 6 cookies -> $work/policies/ocd.yaml"
has_line "$err" "  skipped 2: already in the pack (--against)"
has_line "$work/policies/ocd.yaml" "    cookies: ['_ga_*', '_gid']"

# hosts and ABP lists with a purpose and an id.
run 0 import hosts "$fx/hosts-small.txt" --purpose advertising -o "$work/policies/hosts.yaml"
has_line "$work/policies/hosts.yaml" "  - id: import-hosts-small"
has_line "$err" "$fx/hosts-small.txt:13:9: warning: \"not..valid.example\" is not a domain (empty label); skipped"
run 0 import abp "$fx/abp-small.txt" --purpose analytics --id my-abp --licence "CC BY-SA 3.0" \
  -o "$work/policies/abp.yaml"
has_line "$work/policies/abp.yaml" "# licence: CC BY-SA 3.0"
has_line "$work/policies/abp.yaml" "    domains: ['ads.example', 'anchored.example', 'beacon.example', 'track.example']"

# The result loads: a config whose policies are the pack's purposes and the four imports.
cat >"$work/settings.yaml" <<EOF
policies:
  - policies
EOF
run 0 check-config "$work/settings.yaml"
has_line "$out" "$work/settings.yaml: OK"

# Bad input: exit 1, precise messages, and nothing written (not even a truncated file).
run 1 import disconnect "$fx/truncated.json" -o "$work/policies/truncated.yaml"
absent "$work/policies/truncated.yaml"
grep -q "^$fx/truncated.json:1:101: not valid JSON: " "$err" || {
  echo "FAIL: no position for the truncated JSON"
  sed 's/^/  got: /' "$err"
  failures=$((failures + 1))
}
has_line "$err" "consentgate import: $fx/truncated.json is not a usable disconnect list; nothing written"
run 1 import ocd "$fx/unterminated.csv" -o "$work/policies/unterminated.yaml"
has_line "$err" "$fx/unterminated.csv:2:19: quoted field not closed before the end of the input"
absent "$work/policies/unterminated.yaml"
# Deterministic binary garbage: the same bytes on every run.
awk 'BEGIN { srand(7); for (i = 0; i < 3000; i++) printf "%c", int(rand() * 255) + 1 }' >"$work/garbage.bin"
run 1 import hosts "$work/garbage.bin" --purpose advertising -o "$work/policies/garbage.yaml"
absent "$work/policies/garbage.yaml"
ls "$work/policies" | grep -q 'tmp-' && {
  echo "FAIL: a temporary file was left behind"
  failures=$((failures + 1))
}

# Usage errors exit 2.
run 2 import hosts "$fx/hosts-small.txt"
has_line "$err" "consentgate import: hosts and ABP lists need --purpose PURPOSE"
run 2 import disconnect "$fx/disconnect-small.json" --map Advertising
run 2 import disconnect "$work/does-not-exist.json"
run 2 import csv "$fx/ocd-small.csv"
# A purpose the pack does not define is refused when the pack is known.
run 1 import hosts "$fx/hosts-small.txt" --purpose telepathy --against "$work/policies/00-purposes.yaml"
has_line "$err" "consentgate import: purpose \"telepathy\" is not defined by the --against policy (map it with --map or --purpose)"

# The config still loads after all that (no stray file in the policies directory).
run 0 check-config "$work/settings.yaml"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "import CLI: all checks passed"
