#!/usr/bin/env bash
# Installs the Debian packages boucle needs to build, run and test.
# Idempotent: installs only what is missing, and says nothing when nothing is.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config
  libmicrohttpd-dev libsqlite3-dev sqlite3 liblinear-dev libstemmer-dev libjansson-dev libyaml-dev
  libutf8proc-dev libpcre2-dev libsodium-dev libcurl4-openssl-dev libpq-dev postgresql
  libcmocka-dev python3-pytest python3-requests python3-sklearn
  libxgboost-dev python3-xgboost
  chromium prometheus
)
# the dashboard's browser tests run on node + npm; keep a node already installed
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
