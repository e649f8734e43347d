#!/usr/bin/env bash
# Installs (if needed) Debian's Chromium and ChromeDriver, which the browser tests drive headless
# (server/tests/api/browser.rs): /usr/bin/chromium and /usr/bin/chromedriver, and a Japanese
# font (fonts-noto-cjk), without which the console's and the emails' Japanese shows as boxes in
# screenshots.
#   scripts/install-test-browser.sh
#   HIRELAY_TEST_BROWSER=required cargo test --workspace   # a missing browser then fails
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] \
  && dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null | grep -q 'install ok installed'; then
  echo "chromium, chromedriver and fonts-noto-cjk already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null
echo "installed $(/usr/bin/chromium --version) and fonts-noto-cjk"
