#!/usr/bin/env bash
# Installs Debian's chromium for the console's browser test (test/process/console-browser.test.ts).
# Never fails: when the browser cannot be installed (not root, no apt-get, no network), it
# says why and the test skips with the same reason.
set -uo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "browser: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "browser: /usr/bin/chromium is missing and cannot be installed here (needs root and apt-get); the browser test will skip"
  exit 0
fi
echo "browser: installing Debian's chromium (apt-get install chromium)..."
export DEBIAN_FRONTEND=noninteractive
if timeout 900 apt-get update -qq >/dev/null 2>&1 &&
  timeout 1200 apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null 2>&1; then
  echo "browser: $(/usr/bin/chromium --version 2>/dev/null | head -1)"
else
  echo "browser: apt-get could not install chromium; the browser test will skip"
fi
exit 0
