# Shared helpers for the provisioning steps. Sourced, not executed.
# shellcheck shell=bash
set -euo pipefail

PROVISION_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$PROVISION_DIR/../.." && pwd)
# shellcheck source=versions.env
source "$PROVISION_DIR/versions.env"
# Heavy artefacts live outside the clone so a fresh clone (CI) reuses them.
MICROSTUDIO_CACHE=${MICROSTUDIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/microstudio}
mkdir -p "$MICROSTUDIO_CACHE"

step() { printf '\033[1m[provision]\033[0m %s\n' "$*" >&2; }
fail() {
  printf '\033[31m[provision] ERROR:\033[0m %s\n' "$1" >&2
  [ $# -gt 1 ] && printf '  fix: %s\n' "$2" >&2
  exit 1
}

is_root() { [ "$(id -u)" = 0 ]; }

APT_UPDATED=0
# Installs the Debian packages among "$@" that are not installed yet.
apt_ensure() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  is_root || fail "Debian packages missing: ${missing[*]}" "sudo apt-get install -y ${missing[*]}"
  step "installing Debian packages: ${missing[*]}"
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq >&2; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || fail "apt-get could not install: ${missing[*]}" "check the Debian archive is reachable, then re-run npm start"
}
