#!/usr/bin/env bash
# The real network parts the proxy tests start: Debian's tinyproxy (a forward proxy whose own log
# proves what went through it) and openssl (a throwaway CA for the HTTPS tests). Installed once;
# `npm test` runs this before the unit tests so that a fresh machine needs only `npm ci && npm test`.
set -euo pipefail
log() { printf '[install-proxy] %s\n' "$*"; }
missing=()
command -v tinyproxy >/dev/null 2>&1 || [ -x /usr/bin/tinyproxy ] || [ -x /usr/sbin/tinyproxy ] || missing+=(tinyproxy)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  # dpkg's lock may be held by another installer on a shared machine: wait for it, never break it.
  for i in $(seq 1 60); do
    if $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then break; fi
    if [ "$i" = 1 ]; then $SUDO apt-get update -qq >/dev/null 2>&1 || true; fi
    if [ "$i" = 60 ]; then $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; fi
    sleep 5
  done
fi
# The package's service is not wanted: the tests start their own instance on a free port.
log "$(tinyproxy -v 2>/dev/null || /usr/bin/tinyproxy -v 2>/dev/null || /usr/sbin/tinyproxy -v); $(openssl version)"
