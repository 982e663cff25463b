#!/usr/bin/env bash
# The network-level fuzzer in CI (issue 15, docs/FUZZING.md "soak"): the diff's generated
# sessions against ONE nats-ws-server per configuration, checking after every case that a
# fresh client still gets INFO and PONG and that RSS stays within 32 MiB of its
# post-warm-up baseline (ours grew at most 9 MiB over 3,000 cases). A seed that changes
# daily (SOAK_SEED overrides); SOAK_CASES sizes it (800 cases: ~50 s at the 17 cases/s
# measured with 2 jobs); `timeout` bounds the run regardless.
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${SOAK_SEED:-$(date -u +%Y%m%d)}
cases=${SOAK_CASES:-800}
cargo build --release -q -p nats-ws -p nats-ws-harness
echo "soak: nats-ws-server, seed $seed, $cases cases (replay a failure with --replay $seed:INDEX)"
timeout 300 target/release/nats-ws-conform soak \
    --server "$PWD/target/release/nats-ws-server -c {conf}" \
    --seed "$seed" --cases "$cases" --jobs 2 --rss-limit-mib 32 --json "${TMPDIR:-/tmp}/nats-ws-soak-$seed.json"
