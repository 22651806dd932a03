#!/usr/bin/env bash
# Turborepo with its cache outside the clone (a fresh clone — CI — reuses the web app build)
# and without telemetry (this machine has no internet; nothing should try to phone home).
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 NEXT_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
export TURBO_CACHE_DIR=${TURBO_CACHE_DIR:-${MICROSTUDIO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/microstudio}/turbo}
exec "$(dirname "$0")/../node_modules/.bin/turbo" "$@"
