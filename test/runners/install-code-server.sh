#!/usr/bin/env bash
# Installs a real VS Code (code-server 4.100.3 = VS Code 1.100.3, Node 20) plus playwright-core into
# .vscode-test/code-server/, and the Debian packages they need, following shared/vscode-in-ci.md.
# Idempotent: a marker file records a finished install, so a second run takes a second.
# Usage: bash test/runners/install-code-server.sh [--force]
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
VSCODE_VERSION=1.100.3
# Exact pin: playwright talks CDP to Debian's chromium (seen working: 1.64.1 with Chromium 156).
PLAYWRIGHT_VERSION=1.64.1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="${SCHOLAR_CODE_SERVER_DIR:-$root/.vscode-test/code-server}"
marker="$dir/.installed"
want="code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_VERSION"
start=$(date +%s)

log() { printf '[install-code-server] %s\n' "$*"; }
elapsed() { echo "$(( $(date +%s) - start ))s"; }

# Quieter npm: no funding/audit chatter, no interactive prompts.
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
export npm_config_yes=true npm_config_unsafe_perm=true npm_config_loglevel=error

# --- Debian packages -------------------------------------------------------------------------
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
# Without any font, screenshots show boxes instead of text (recommends are not installed below).
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing+=(fonts-dejavu-core)
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null 2>&1 || $SUDO apt-get update
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
  log "apt packages installed ($(elapsed))"
fi
log "$(chromium --version 2>/dev/null | head -1); $(rg --version | head -1)"

# --- already done? ---------------------------------------------------------------------------
if [ "${1:-}" != "--force" ] && [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ] \
  && "$dir/node_modules/.bin/code-server" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION .*Code $VSCODE_VERSION\$"; then
  log "code-server $CODE_SERVER_VERSION already installed in ${dir#"$root"/} ($(elapsed))"
  exit 0
fi
rm -f "$marker"

# --- 1. code-server and playwright-core, install scripts skipped ------------------------------
# code-server's own postinstall would download ripgrep from the internet, which is not reachable.
mkdir -p "$dir"
cd "$dir"
# Our own package.json (npm init would name it "code-server", the same as its dependency).
[ -f package.json ] || echo '{ "name": "scholar-vscode-test-tools", "private": true }' >package.json
log "npm install $want"
npm install --ignore-scripts --save-exact "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null

# --- 2. argon2 (native dependency of code-server itself) --------------------------------------
log "npm rebuild argon2 ($(elapsed))"
npm rebuild argon2 >/dev/null

# --- 3. VS Code's own node_modules, ripgrep from Debian, native modules -----------------------
vs="$dir/node_modules/code-server/lib/vscode"
cd "$vs"
log "lib/vscode: npm install --omit=dev ($(elapsed))"
npm install --omit=dev --ignore-scripts >/dev/null
# @vscode/ripgrep's install script skips its download when bin/ exists.
mkdir -p node_modules/@vscode/ripgrep/bin
ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
log "lib/vscode: npm rebuild (node-pty, spdlog, kerberos, watchers; takes a while) ($(elapsed))"
npm rebuild >/dev/null

# --- 4. links code-server's postinstall would have made ---------------------------------------
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sf code-linux.sh code-server)
(cd bin/helpers && ln -sf browser-linux.sh browser.sh)

# --- 5. built-in extensions' dependencies -----------------------------------------------------
log "lib/vscode/extensions: npm install --omit=dev ($(elapsed))"
(cd extensions && npm install --omit=dev >/dev/null)

# --- 6. check ---------------------------------------------------------------------------------
cd "$dir"
for m in node-pty @vscode/spdlog; do
  if ! ls "$vs/node_modules/$m/build/Release/"*.node >/dev/null 2>&1; then
    log "ERROR: native module $m was not built"; exit 1
  fi
done
# (the first run also prints a line about writing ~/.config/code-server/config.yaml)
version="$(node_modules/.bin/code-server --version 2>/dev/null | grep "^$CODE_SERVER_VERSION " | head -1 || true)"
if ! grep -q "Code $VSCODE_VERSION\$" <<<"$version"; then
  log "ERROR: code-server --version printed: $version"; exit 1
fi
node -e "require('playwright-core')" || { log "ERROR: playwright-core does not load"; exit 1; }
echo "$want" >"$marker"
log "installed: $version; playwright-core $PLAYWRIGHT_VERSION ($(elapsed))"
