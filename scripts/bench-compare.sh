#!/usr/bin/env bash
# Side by side on this machine, in one run: the Go nats-server (v2.15.1) and nats-ws,
# each cell run against both servers alternately (a fresh server per run, generated
# configuration on free loopback ports), several repetitions, medians and ratios
# (nats-ws / Go). Writes JSON and Markdown to $OUT and the plot to docs/bench.svg.
#
#   scripts/bench-compare.sh [all|matrix|tls|sink|idle|latency]...   (default: all)
#
# Environment: REPS (3), DUR_MS (1000 per cell), OUT (target/bench), GO_SERVER (default
# .venv-peers/bin/nats-server, installed by scripts/install-peers.sh), CARGO_TARGET_DIR,
# PAYLOAD (random|text), IDLE ("1000 10000"), CELLS (space-separated name filters).
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${REPS:-3}
DUR_MS=${DUR_MS:-1000}
OUT=${OUT:-target/bench}
PAYLOAD=${PAYLOAD:-random}
IDLE=${IDLE:-"1000 10000"}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(all)

if [ -z "${GO_SERVER:-}" ]; then
    scripts/install-peers.sh >/dev/null
    GO_SERVER=$PWD/.venv-peers/bin/nats-server
fi
"$GO_SERVER" --version

cargo build --release -p nats-ws-harness --bin nats-ws-bench
BENCH=$TARGET_DIR/release/nats-ws-bench
NWS=$TARGET_DIR/release/nats-ws-server
servers=(--server "go=$GO_SERVER -c {conf}")
if cargo build --release -p nats-ws --bin nats-ws-server; then
    servers+=(--server "nats-ws=$NWS -c {conf}")
else
    echo "warning: nats-ws-server does not build; measuring the Go server alone" >&2
fi

# 10,000 idle connections need as many descriptors on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
mkdir -p "$OUT"
shape=(--duration-ms "$DUR_MS" --payload "$PAYLOAD")
for c in ${CELLS:-}; do shape+=(--cells "$c"); done
common=(--reps "$REPS" "${shape[@]}")
want() { for m in "${modes[@]}"; do [ "$m" = all ] || [ "$m" = "$1" ] && return 0; done; return 1; }

# Every cell, TLS off (the transport itself) and on (as Go's Benchmark_WS_* run).
if want matrix; then
    "$BENCH" "${servers[@]}" "${common[@]}" --tls off \
        --json "$OUT/matrix-tls-off.json" --markdown "$OUT/matrix-tls-off.md" || true
fi
if want tls; then
    "$BENCH" "${servers[@]}" "${common[@]}" --tls on \
        --json "$OUT/matrix-tls-on.json" --markdown "$OUT/matrix-tls-on.md" || true
fi
# The client alone against an in-process sink: the ceiling the tool itself imposes.
if want sink; then
    "$BENCH" --sink "${shape[@]}" --reps 1 --tls off \
        --json "$OUT/sink-tls-off.json" --markdown "$OUT/sink-tls-off.md" || true
fi
if want idle; then
    idle_args=()
    for n in $IDLE; do idle_args+=(--idle "$n"); done
    "$BENCH" "${servers[@]}" --reps 1 --tls off "${idle_args[@]}" --compression both \
        --json "$OUT/idle.json" || true
fi
if want latency; then
    "$BENCH" "${servers[@]}" --reps "$REPS" --tls off --latency --duration-ms 3000 --load-conns 1 \
        --compression both --json "$OUT/latency.json" || true
fi

plots=()
for f in "$OUT/matrix-tls-off.json" "$OUT/matrix-tls-on.json"; do
    [ -f "$f" ] && plots+=("$f")
done
if [ ${#plots[@]} -gt 0 ]; then
    python3 scripts/plot-bench.py "${plots[@]}" -o docs/bench.svg
fi
echo "results in $OUT/"
