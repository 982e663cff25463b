#!/usr/bin/env bash
# The interop suite: real third-party NATS clients against nats-ws-server.
#   bash scripts/interop.sh            # install pinned clients, build, run every family
#   bash scripts/interop.sh nats-py    # only the named families
# Families: nats-py, nats.ws, nats-core, chromium, async-nats. Prints each family's time
# and test counts; exits non-zero if any family failed.
set -euo pipefail
cd "$(dirname "$0")/.."

FAMILY_TIMEOUT=${INTEROP_FAMILY_TIMEOUT:-600}
all=(nats-py nats.ws nats-core chromium async-nats)
families=("${@:-${all[@]}}")
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

start=$(date +%s)
t0=$(date +%s)
bash scripts/install-interop.sh
install_s=$(($(date +%s) - t0))

t0=$(date +%s)
cargo build --release --quiet -p nats-ws --bin nats-ws-server
build_s=$(($(date +%s) - t0))
export NATS_WS_SERVER
NATS_WS_SERVER="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/nats-ws-server"
export INTEROP_PYTHON="$PWD/.venv-interop/bin/python"

run_family() {
    case $1 in
    nats-py) .venv-interop/bin/python -m pytest tests/interop/python -q -p no:cacheprovider ;;
    nats.ws) node --test --test-reporter=spec tests/interop/node/nats_ws.test.js ;;
    nats-core) node --test --test-reporter=spec tests/interop/node/nats_core.test.js ;;
    chromium) node --test --test-reporter=spec tests/interop/node/browser.test.js \
        tests/interop/node/browser_mqtt.test.js ;;
    async-nats) cargo test --quiet -p nats-ws --test interop_async_nats -- --include-ignored ;;
    *)
        echo "unknown family $1 (one of: ${all[*]})"
        return 2
        ;;
    esac
}

# Test counts from each runner's closing lines: pytest "N passed, M failed", node's spec
# reporter "ℹ pass N"/"ℹ fail N", cargo "test result: ... N passed; M failed".
counts() {
    local log=$1 p f
    p=$( (grep -oE '[0-9]+ passed' "$log" || true) | awk '{s+=$1} END {print s+0}')
    f=$( (grep -oE '[0-9]+ (failed|errors?)' "$log" || true) | awk '{s+=$1} END {print s+0}')
    if grep -qE '^ℹ (pass|fail) ' "$log"; then
        p=$(grep -E '^ℹ pass ' "$log" | awk '{s+=$3} END {print s+0}')
        f=$(grep -E '^ℹ fail ' "$log" | awk '{s+=$3} END {print s+0}')
    fi
    echo "$p $f"
}

results=()
failed_families=0
total_pass=0
total_fail=0
for fam in "${families[@]}"; do
    echo "::: interop $fam"
    t0=$(date +%s)
    rc=0
    timeout --kill-after=10 "$FAMILY_TIMEOUT" bash -c "$(declare -f run_family); run_family $fam" \
        2>&1 | tee "$logs/$fam.log" || rc=$?
    took=$(($(date +%s) - t0))
    read -r p f < <(counts "$logs/$fam.log")
    if [ "$rc" != 0 ]; then
        failed_families=$((failed_families + 1))
        [ "$f" -gt 0 ] || f=1
        status="FAIL (exit $rc)"
    else
        status=ok
    fi
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    results+=("$(printf '%-12s %-14s %4s passed %3s failed %5ss' "$fam" "$status" "$p" "$f" "$took")")
done

echo
echo "::: interop timings"
printf '  %-12s %5ss\n' install "$install_s" build "$build_s"
for r in "${results[@]}"; do echo "  $r"; done
printf '  %-12s %5ss\n' total $(($(date +%s) - start))
echo "interop: $total_pass passed, $total_fail failed"
[ "$failed_families" = 0 ]
