#!/usr/bin/env bash
# Leafnode interop (issue 16), nats-py clients on every server:
#   (1) nats-ws as a leaf of a Go hub over ws://, wss:// and TCP;
#   (2) a Go server as a leaf of nats-ws over ws://, wss:// and TCP;
#   (3) the scaling-out topology (examples/scaling-out/): a three-node Go cluster as hub,
#       two nats-ws leaves (ws:// and TCP), two accounts, the hub node of one leaf killed.
#
#   bash scripts/leaf-interop.sh        # nats-ws = target/release/nats-ws-server (built)
#   NATS_WS_SERVER=$PWD/.venv-peers/bin/nats-server bash scripts/leaf-interop.sh
#                                       # all-Go: checks the checks
# Each run stops its servers itself (also on a timeout: SIGTERM). Ends with the line
# "N passed, N failed"; exits non-zero if any run failed.
set -euo pipefail
cd "$(dirname "$0")/.."

RUN_TIMEOUT=${LEAF_INTEROP_TIMEOUT:-300}
bash scripts/install-peers.sh >/dev/null
if ! .venv-interop/bin/python -c 'import nats' 2>/dev/null; then
    bash scripts/install-interop.sh
fi
GO="$PWD/.venv-peers/bin/nats-server"
if [ -z "${NATS_WS_SERVER:-}" ]; then
    cargo build --release --quiet -p nats-ws --bin nats-ws-server
    NATS_WS_SERVER="$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/nats-ws-server"
fi

start=$(date +%s)
passed=0
failed=0
run() {
    echo "::: $*"
    if timeout "$RUN_TIMEOUT" .venv-interop/bin/python examples/scaling-out/scaling_out.py "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
}
for t in ws wss tcp; do run pair --transport "$t" --leaf-bin "$NATS_WS_SERVER" --hub-bin "$GO"; done
for t in ws wss tcp; do run pair --transport "$t" --leaf-bin "$GO" --hub-bin "$NATS_WS_SERVER"; done
run topology --leaf-bin "$NATS_WS_SERVER"
echo "leaf-interop ($NATS_WS_SERVER): $(($(date +%s) - start))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
