#!/usr/bin/env bash
# Runs a command under Node.js >= 22.13 with the project's dependencies installed.
#
# Hardhat 3 needs Node >= 22.13. On a machine whose node is older, a Node 22 binary is
# installed from the npm registry (package `node`) into a cache folder outside the
# repository, and put first on PATH; the system's Node is left alone. npm itself must run
# under that Node during install, or Hardhat's native EDR package is silently skipped.
#
# Usage: bash scripts/env.sh <command> [args...]
# Env:   PARTPROOF_CACHE  cache folder (default ~/.cache/partproof)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${PARTPROOF_CACHE:-$HOME/.cache/partproof}"
need_major=22
need_minor=13

node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  local v major minor
  v="$(node -p 'process.versions.node' 2>/dev/null)" || return 1
  major="${v%%.*}"
  minor="${v#*.}"
  minor="${minor%%.*}"
  [ "$major" -gt "$need_major" ] || { [ "$major" -eq "$need_major" ] && [ "$minor" -ge "$need_minor" ]; }
}

if ! node_ok; then
  nodedir="$cache/node22"
  if [ ! -x "$nodedir/node_modules/.bin/node" ]; then
    echo "[env] Node $(node -v 2>/dev/null || echo none) is older than 22.13; installing Node 22 from the npm registry into $nodedir (once, ~10-40 s)" >&2
    mkdir -p "$nodedir"
    npm install --prefix "$nodedir" --no-audit --no-fund --loglevel=error node@22 >&2
  fi
  export PATH="$nodedir/node_modules/.bin:$PATH"
  node_ok || { echo "[env] could not provide Node >= 22.13 (got $(node -v))" >&2; exit 1; }
fi

cd "$root"
# Install dependencies when missing or when the lockfile changed since the last install.
stamp="node_modules/.partproof-install-stamp"
lock_hash="$( (cat package-lock.json 2>/dev/null; node -v) | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ] || [ ! -d node_modules/@nomicfoundation/edr ]; then
  echo "[env] installing dependencies with npm ci under Node $(node -v)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_hash" >"$stamp"
fi
# Hardhat's in-process chain needs EDR's native package for this platform.
if ! node -e "require('@nomicfoundation/edr')" >/dev/null 2>&1; then
  echo "[env] Hardhat's native EDR binding did not install; re-run 'npm ci' under Node >= 22.13" >&2
  exit 1
fi

export PATH="$root/node_modules/.bin:$PATH"
exec "$@"
