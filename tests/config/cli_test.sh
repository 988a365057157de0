#!/bin/sh
# Runs the real consentgate binary: check-config on the shipped and on broken configs, explain on a
# tracker URL. Usage: cli_test.sh CONSENTGATE SOURCE_DIR. Paths in messages are relative to SOURCE_DIR.
set -u
bin=$1
cd "$2" || exit 2
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
failures=0

run() {  # run EXPECTED_STATUS ARGS...: runs the binary, keeps stdout/stderr, checks the exit status
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
has_line() {  # has_line FILE LINE: LINE is one whole line of FILE
  if ! grep -qxF -- "$2" "$1"; then
    echo "FAIL: missing line: $2"
    sed 's/^/  got: /' "$1"
    failures=$((failures + 1))
  fi
}
has_match() {  # has_match FILE REGEX: one whole line of FILE matches the extended REGEX
  if ! grep -qxE -- "$2" "$1"; then
    echo "FAIL: no line matches: $2"
    sed 's/^/  got: /' "$1"
    failures=$((failures + 1))
  fi
}
has_text() {  # has_text FILE TEXT: TEXT occurs in FILE
  if ! grep -qF -- "$2" "$1"; then
    echo "FAIL: missing text: $2"
    sed 's/^/  got: /' "$1"
    failures=$((failures + 1))
  fi
}

# The shipped configuration is valid and summarised.
run 0 check-config config/default.yaml
has_line "$out" "config/default.yaml: OK"
has_line "$out" "purposes (9):"
has_match "$out" "  strictly-necessary +Strictly necessary +exempt"
has_match "$out" "  audience-measurement +Audience measurement +exempt when first-party, cookies <= 13 months"
has_match "$out" "  advertising-personalised +Personalised advertising +needs consent"
has_text "$out" "rules: "
has_text "$out" ", hash "
run 0 check-config  # the default file

# Load errors: every one, verbatim, and exit 1.
run 1 check-config tests/config/fixtures/broken-keys/settings.yaml
has_line "$err" 'tests/config/fixtures/broken-keys/settings.yaml:4:12: timeouts.connect: expected a duration such as "15s", "500ms" or "5m" (0 disables), got "5"'
has_line "$err" 'tests/config/fixtures/broken-keys/settings.yaml:5:25: policies[1]: cannot read "tests/config/fixtures/broken-keys/missing.yaml": No such file or directory'
has_line "$err" 'tests/config/fixtures/broken-keys/policy.yaml:10:5: unknown key "domians" in trackers[1]; did you mean "domains"?'
has_line "$err" 'tests/config/fixtures/broken-keys/policy.yaml:12:5: duplicate key "domains" in trackers[1] (first at line 11)'
has_line "$err" 'tests/config/fixtures/broken-keys/settings.yaml: 4 problems'
[ -s "$out" ] && { echo "FAIL: check-config printed a summary for a broken config"; failures=$((failures + 1)); }

# Engine diagnostics come back with the locations the loader recorded.
run 1 check-config tests/config/fixtures/broken-semantics/settings.yaml
has_text "$err" 'tests/config/fixtures/broken-semantics/policy.yaml:7:14: trackers[0].purpose: unknown purpose "analitycs"'
has_text "$err" 'tests/config/fixtures/broken-semantics/policy.yaml:9:12: trackers[0].urls[0]: '

run 1 check-config tests/config/fixtures/none.yaml
has_line "$err" "tests/config/fixtures/none.yaml: cannot read file: No such file or directory"

# explain: Google Analytics without consent is blocked by its domain rule.
run 0 explain "https://www.google-analytics.com/g/collect?v=2&tid=G-XYZ" --site https://news.example/article --dest image --now 1767225600
has_line "$out" "verdict    block"
has_line "$out" "purpose    audience-measurement (Audience measurement)"
has_line "$out" "rule       google-analytics-suite/domains[0]"
has_line "$out" "source     own (consentgate maintainers)"
has_line "$out" "reason     consent_missing"
has_line "$out" "surrogate  gif (200, 1x1 transparent GIF)"
has_line "$out" "site       news.example (third-party request)"

run 0 explain "https://www.google-analytics.com/g/collect" --site news.example --json --now 1767225600
has_text "$out" '"verdict":"block"'
has_text "$out" '"surrogate":"no_content"'
has_text "$out" '"rule":"google-analytics-suite/domains[0]"'
has_text "$out" '"source":"own (consentgate maintainers)"'
has_text "$out" '"reason":"consent_missing"'

# With consent to analytics, the same request goes through.
run 0 explain "https://www.google-analytics.com/g/collect" --site news.example --consent "analytics:true" --now 1767225600
has_line "$out" "verdict    allow"
has_line "$out" "reason     purpose_granted"
has_line "$out" "source     own (consentgate maintainers)"

# Cookies and Set-Cookie of a first-party page: the pixel cookie goes, the session stays.
run 0 explain --cookie _fbp=fb.1.1 "https://news.example/" --site news.example --cookie PHPSESSID=abc \
  --set-cookie "_fbp=fb.1.2; Max-Age=7776000; Path=/" --now 1767225600
has_line "$out" "cookie     _fbp: removed (social-media (Social media sharing and embeds), rule meta/cookies[0], consent_missing)"
has_line "$out" "cookie     PHPSESSID: sent"
has_text "$out" "set-cookie _fbp: drop (social-media"

# The rule's source is shown with the rule, for each removed cookie too; no rule, no source.
run 0 explain --cookie _fbp=fb.1.1 "https://news.example/" --site news.example --json --now 1767225600
has_text "$out" '"name":"_fbp","purpose":"social-media","reason":"consent_missing","rule":"meta/cookies[0]","source":"own (consentgate maintainers)"'
has_text "$out" '"rule":null,"source":null'
run 0 explain "https://news.example/" --site news.example --now 1767225600
has_line "$out" "rule       none"
if grep -q '^source ' "$out"; then
  echo "FAIL: a source line without a rule"
  failures=$((failures + 1))
fi

run 2 explain "http://exa mple/"
has_line "$err" "consentgate explain: http://exa mple/: no valid host in this URL"
run 2 explain "http://example.com/" --site "a b"
has_line "$err" "consentgate explain: --site a b: no valid host"

[ "$failures" -eq 0 ] && echo "all consentgate CLI checks passed"
exit "$failures"
