#!/usr/bin/env bash
# Installs Debian's chromium for the console's browser test (test/console/), when it is missing.
# Playwright's own browser downloads are not available here, so the test drives this one through
# playwright-core with an explicit executable path (PARTPROOF_CHROMIUM, default /usr/bin/chromium).
set -euo pipefail
if [ -x "${PARTPROOF_CHROMIUM:-/usr/bin/chromium}" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-browser: chromium is missing; run as root (apt-get) or set PARTPROOF_CHROMIUM" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
