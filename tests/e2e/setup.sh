#!/usr/bin/env bash
# Installs what the end-to-end suite needs and is missing: Debian's chromium (never a browser download),
# certutil (libnss3-tools, for the browser's trust store), openssl, and playwright-core pinned in
# package.json into tests/e2e/node_modules. Idempotent: a second run installs nothing.
# Exit status: 0 ready; 3 chromium cannot be installed (run.sh turns that into a SKIP); other = error.
set -euo pipefail
cd "$(dirname "$0")"

# CHROMIUM_PATH (also read by suite.mjs) points at another chromium binary; then none is installed.
chromium_bin="${CHROMIUM_PATH:-/usr/bin/chromium}"
packages=(libnss3-tools openssl)
if [[ -z "${CHROMIUM_PATH:-}" ]]; then packages+=(chromium); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from elsewhere than Debian (the machine image has its own): only install it when absent.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]} > 0)); then
  echo "e2e setup: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo -n); fi
  export DEBIAN_FRONTEND=noninteractive
  if ! { "${sudo_cmd[@]}" apt-get update -qq &&
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2; then
    echo "e2e setup: apt-get could not install ${missing[*]}" >&2
  fi
fi
if [[ ! -x "$chromium_bin" ]]; then
  echo "e2e setup: $chromium_bin is not installed and could not be installed" >&2
  exit 3
fi
for tool in node npm certutil openssl; do
  command -v "$tool" >/dev/null || { echo "e2e setup: $tool is missing" >&2; exit 1; }
done

# The browser is Debian's: playwright-core must never fetch one of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
want=$(node -p 'require("./package.json").dependencies["playwright-core"]')
have=$(node -p 'try { require("./node_modules/playwright-core/package.json").version } catch { "" }')
if [[ "$have" != "$want" ]]; then
  echo "e2e setup: npm ci (playwright-core $want)"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
