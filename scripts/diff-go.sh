#!/usr/bin/env bash
# The differential fuzzer in CI (issue 15): the Go server against itself must differ in
# nothing (a cargo test), and nats-ws-server against Go 2.15.1 in nothing undocumented,
# over a bounded run whose seed changes daily (DIFF_SEED overrides, DIFF_CASES sizes it).
set -euo pipefail
cd "$(dirname "$0")/.."
go="$PWD/.venv-peers/bin/nats-server"
[ -x "$go" ] || { echo "missing $go: run bash scripts/install-peers.sh"; exit 1; }
seed=${DIFF_SEED:-$(date -u +%Y%m%d)}
cases=${DIFF_CASES:-300}
cargo build --release -q -p nats-ws -p nats-ws-harness
cargo test -q -p nats-ws-harness --test diff_go -- --ignored
echo "diff: nats-ws-server against Go, seed $seed, $cases cases (replay one with --replay $seed:INDEX)"
target/release/nats-ws-conform diff \
    --a "$PWD/target/release/nats-ws-server -c {conf}" \
    --b "$go -c {conf}" \
    --seed "$seed" --cases "$cases" --jobs 2 --json "${TMPDIR:-/tmp}/nats-ws-diff-$seed.json"
