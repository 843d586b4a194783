#!/usr/bin/env bash
# Install Debian's headless-capable Chromium (/usr/bin/chromium) for the browser test of the archive report
# (tests/integration/test_archive_report.py calls this when /usr/bin/chromium is missing). Needs root and
# Debian's package archive; prints why on failure so the test can report it.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-chromium: needs root to apt-get install chromium (run: sudo $0)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "install-chromium: no apt-get here; install Chromium so that /usr/bin/chromium exists" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
start=$SECONDS
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium || { echo "install-chromium: apt-get finished but /usr/bin/chromium is missing" >&2; exit 1; }
echo "install-chromium: $(/usr/bin/chromium --version 2>/dev/null) installed in $((SECONDS - start))s"
