#!/usr/bin/env bash
# Brings this machine up to what Microstudio needs, idempotently; cached outside the clone.
# Run by `npm start` and `npm test` (README). A warm run takes a second or two.
#   --for-tests        also Debian's Chromium for the Playwright end-to-end tests
#   --for-janus-bench  also Debian's Janus, the reference of `npm run bench:capacity:janus` (bench only)
# Writes .runtime/runtime.json (gitignored): the paths the launchers use.
source "$(dirname "$0")/lib.sh"

for_tests=0
for_janus_bench=0
for arg in "$@"; do
  case "$arg" in
    --for-tests) for_tests=1 ;;
    --for-janus-bench) for_janus_bench=1 ;;
    *) fail "unknown option $arg" "use: provision.sh [--for-tests] [--for-janus-bench]" ;;
  esac
done

[ -d "$REPO_ROOT/node_modules" ] || fail "dependencies are not installed" "run: npm install"

apt_ensure openssl ca-certificates
# The recorder (apps/recorder) writes segments with Debian's ffmpeg (-c copy, no transcoding).
apt_ensure ffmpeg
NODE_BIN=$("$PROVISION_DIR/node-runtime.sh")
if [ -n "${MICROSTUDIO_WORKER_BIN:-}" ]; then
  [ -x "$MICROSTUDIO_WORKER_BIN" ] || fail "MICROSTUDIO_WORKER_BIN=$MICROSTUDIO_WORKER_BIN is not an executable" "unset it to use the provisioned worker"
  WORKER_BIN=$MICROSTUDIO_WORKER_BIN
else
  WORKER_BIN=$("$PROVISION_DIR/mediasoup-worker.sh")
fi

# Recorded whenever present, so `npm start` does not hide the browser from a later test run.
CHROMIUM_BIN=$(command -v chromium || true)
if [ "$for_tests" = 1 ]; then
  # Test tools cannot download their own browser here: use Debian's.
  apt_ensure chromium fonts-liberation
  # The TURN end-to-end test (e2e/tests/turn.spec.ts) starts Debian's coturn on loopback.
  apt_ensure coturn
  # The fabric tests (sfu/test/fabric.test.ts) start their own redis-server on a free loopback port
  # with every setting on the command line (no config file, no persistence, a temp dir), so they
  # neither need nor touch the system service Debian may start on 6379 (left as the admin set it).
  # iproute2 (`ss`, `tc`): for the edge fabric's network tests.
  apt_ensure redis-server iproute2
  CHROMIUM_BIN=$(command -v chromium || true)
  [ -n "$CHROMIUM_BIN" ] || fail "chromium is not on PATH after installing it" "apt-get install -y chromium"
  # The recorder's upload tests need a real S3-protocol server (multipart ETags, ListParts, Abort).
  command -v moto_server >/dev/null \
    || fail "moto_server (an S3-protocol server for the recorder's upload tests) is not on PATH" "pip install 'moto[server]'  (Python >= 3.9; then re-run npm test)"
fi

if [ "$for_janus_bench" = 1 ]; then
  # Janus's VideoRoom, the side-by-side reference of the capacity bench (sfu/bench/janus.ts runs
  # it as a child with its own config in a temp dir). --no-install-recommends leaves out the Lua
  # helpers; Debian does not start a janus service in a container without systemd, and the bench
  # uses its own ports either way.
  apt_ensure janus
  command -v janus >/dev/null || fail "janus is not on PATH after installing it" "apt-get install -y janus"
fi

mkdir -p "$REPO_ROOT/.runtime"
cat > "$REPO_ROOT/.runtime/runtime.json" <<JSON
{
  "node": "$NODE_BIN",
  "mediasoupWorker": "$WORKER_BIN",
  "chromium": "$CHROMIUM_BIN"
}
JSON
step "ready: node $("$NODE_BIN" -v), mediasoup worker $MEDIASOUP_VERSION${CHROMIUM_BIN:+, $("$CHROMIUM_BIN" --version 2>/dev/null | head -1)}"
