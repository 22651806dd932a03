#!/usr/bin/env bash
# The mediasoup worker binary, cached by version. Prints its path on stdout.
# 1. cached binary → done (seconds);
# 2. mediasoup's own prebuilt download (machines with internet);
# 3. offline build from the npm tarball against Debian packages (about 5 minutes on 2 cores).
source "$(dirname "$0")/lib.sh"

NODE_BIN=$("$PROVISION_DIR/node-runtime.sh")
OUT_DIR=$MICROSTUDIO_CACHE/mediasoup-worker-$MEDIASOUP_VERSION-r$MEDIASOUP_OFFLINE_RECIPE
WORKER_BIN=$OUT_DIR/mediasoup-worker

worker_runs() {
  # A worker missing a shared library fails here, not in the middle of a show.
  [ -x "$1" ] && ! ldd "$1" 2>/dev/null | grep -q 'not found'
}

if worker_runs "$WORKER_BIN"; then echo "$WORKER_BIN"; exit 0; fi

work=$MICROSTUDIO_CACHE/mediasoup-build-$MEDIASOUP_VERSION
rm -rf "$work" && mkdir -p "$work"
fetch_sources() {
  rm -rf "$work/package"
  (cd "$work" && npm pack --silent "mediasoup@$MEDIASOUP_VERSION" >/dev/null && tar xzf "mediasoup-$MEDIASOUP_VERSION.tgz") \
    || fail "could not fetch mediasoup@$MEDIASOUP_VERSION from the npm registry" "check npm can reach its registry (npm ping)"
}

# --- 2. prebuilt ---------------------------------------------------------------
if [ "${MICROSTUDIO_SKIP_PREBUILT_WORKER:-0}" != 1 ]; then
  step "trying mediasoup's prebuilt worker download"
  fetch_sources
  if (cd "$work/package" && npm install --silent --ignore-scripts --omit=dev --no-audit --no-fund >/dev/null 2>&1 \
      && PATH=$(dirname "$NODE_BIN"):$PATH timeout 180 "$NODE_BIN" npm-scripts.mjs postinstall >"$work/prebuilt.log" 2>&1) \
     && worker_runs "$work/package/worker/out/Release/mediasoup-worker"; then
    mkdir -p "$OUT_DIR" && cp "$work/package/worker/out/Release/mediasoup-worker" "$WORKER_BIN.partial"
    mv "$WORKER_BIN.partial" "$WORKER_BIN"
    step "prebuilt worker installed at $WORKER_BIN"
    echo "$WORKER_BIN"; exit 0
  fi
  step "no prebuilt worker could be had (no internet?): building it offline from Debian packages"
fi

# --- 3. offline build ------------------------------------------------------------
apt_ensure g++ pkg-config ninja-build python3 libssl-dev libuv1-dev libsrtp2-dev libabsl-dev \
  libflatbuffers-dev flatbuffers-compiler

# meson >= 1.1 (bookworm has 1.0.1): take bookworm-backports' through a private apt config,
# so the system's sources stay untouched. Skipped where a new enough meson exists.
meson_ok() { command -v meson >/dev/null && dpkg --compare-versions "$(meson --version)" ge 1.1.0; }
if ! meson_ok; then
  is_root || fail "meson >= 1.1 is needed to build the mediasoup worker" "install meson from bookworm-backports (apt-get install -t bookworm-backports meson)"
  step "installing meson from bookworm-backports"
  APTD=$MICROSTUDIO_CACHE/apt-backports
  MIRROR=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
  [ -n "$MIRROR" ] || MIRROR=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
  mkdir -p "$APTD/lists/partial" "$APTD/cache/archives/partial" "$APTD/parts"
  cat > "$APTD/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bookworm-backports main
SRC
  cat > "$APTD/apt.conf" <<CONF
Dir::Etc::SourceList "$APTD/sources.list";
Dir::Etc::SourceParts "$APTD/parts";
Dir::State::Lists "$APTD/lists";
Dir::Cache "$APTD/cache";
CONF
  APT_CONFIG=$APTD/apt.conf apt-get update -qq >&2
  APT_CONFIG=$APTD/apt.conf DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports meson >&2
  meson_ok || fail "meson >= 1.1 could not be installed" "apt-get install -t bookworm-backports meson"
fi

fetch_sources
W=$work/package/worker
"$PROVISION_DIR/mediasoup-shims.sh" "$W"

# Debian's libssl is built with kernel TLS, so OpenSSL asks the write BIO BIO_get_ktls_send()
# (a BIO_ctrl). mediasoup's onSslBioOut callback returns 1 for every post-call except exactly
# BIO_CB_RETURN, so the ctrl reads "KTLS on", OpenSSL never allocates its write buffer, and the
# worker dies (SIGSEGV) on the first DTLS ClientHello. Return the real result for all post-calls.
F=$W/src/RTC/DtlsTransport.cpp
grep -q '(operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1' "$F" \
  || fail "mediasoup's DtlsTransport.cpp changed: the KTLS patch no longer applies" "review infra/provision/mediasoup-worker.sh for mediasoup $MEDIASOUP_VERSION"
sed -i 's/(operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1/(operationType \& BIO_CB_RETURN) ? static_cast<long>(ret) : 1/' "$F"

step "building mediasoup-worker $MEDIASOUP_VERSION offline (about 5 minutes on 2 cores; ninja shows progress)"
start=$(date +%s)
cd "$W"
meson setup --buildtype release -Db_ndebug=true --wrap-mode=nodownload "$work/build" >"$work/meson-setup.log" 2>&1 \
  || { tail -30 "$work/meson-setup.log" >&2; fail "meson setup failed (log: $work/meson-setup.log)"; }
# mediasoup's meson.build lets libwebrtc objects compile before the FlatBuffers headers exist:
# generate them first or a clean parallel build can fail.
ninja -C "$work/build" fbs/FBS/worker.h >&2
ninja -C "$work/build" mediasoup-worker >&2
worker_runs "$work/build/mediasoup-worker" || fail "the built worker does not run (ldd: missing libraries?)"
mkdir -p "$OUT_DIR" && cp "$work/build/mediasoup-worker" "$WORKER_BIN.partial" && mv "$WORKER_BIN.partial" "$WORKER_BIN"
step "worker built in $(( $(date +%s) - start )) s: $WORKER_BIN"
rm -rf "$work"
echo "$WORKER_BIN"
