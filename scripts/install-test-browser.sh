#!/usr/bin/env bash
# Installs (if needed) Debian's Chromium and ChromeDriver, which the browser tests drive headless
# (server/tests/api/browser.rs): /usr/bin/chromium and /usr/bin/chromedriver.
#   scripts/install-test-browser.sh
#   HIRELAY_TEST_BROWSER=required cargo test --workspace   # a missing browser then fails
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  echo "chromium and chromedriver already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver >/dev/null
echo "installed $(/usr/bin/chromium --version)"
