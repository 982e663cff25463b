#!/usr/bin/env bash
# Short fuzzing run for CI (called by .ci/run): installs the pinned cargo-fuzz, builds
# every target with AddressSanitizer and comparison feedback, runs each from the
# committed seeds plus its dictionary for FUZZ_SECONDS, and fails on the first crash or
# oracle failure, printing the reproducer's path and bytes.
#
#   bash fuzz/ci.sh                 # all targets, 20 s each
#   FUZZ_SECONDS=300 bash fuzz/ci.sh frame_decoder inflate
#
# Stable Rust: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its -Z sanitizer flags to the
# stable compiler. If that build fails, it falls back to `-s none` (coverage only).
set -euo pipefail
cd "$(dirname "$0")"

CARGO_FUZZ_VERSION=0.13.1
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
# Outside the repository, so runs never dirty the tree.
WORK=${FUZZ_WORK:-${TMPDIR:-/tmp}/nats-ws-fuzz}
# A target dir of its own: a failed `-Z` attempt caches .rustc_info.json in it.
TARGET_DIR=${FUZZ_TARGET_DIR:-$WORK/target}

dict_for() {
    case $1 in
        handshake | ws_client_upgrade) echo dicts/http.dict ;;
        extensions) echo dicts/extensions.dict ;;
        conf) echo dicts/conf.dict ;;
        nats_parser) echo dicts/nats.dict ;;
        leaf_protocol) echo dicts/leaf.dict ;;
        mqtt_packet) echo dicts/mqtt.dict ;;
        *) echo dicts/frames.dict ;;
    esac
}

now() { date +%s; }
start=$(now)

installed=$(cargo fuzz --version 2>/dev/null | awk '{print $2}' || true)
if [ "$installed" != "$CARGO_FUZZ_VERSION" ]; then
    echo "::: installing cargo-fuzz $CARGO_FUZZ_VERSION (found: ${installed:-none})"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

# First the regressions and seeds through the same oracles, on plain stable.
echo "::: replaying regressions and seeds (cargo test --features fuzzing)"
(cd .. && cargo test -q -p nats-ws --no-default-features --features fuzzing --test fuzz_regressions)

if [ $# -gt 0 ]; then
    targets=("$@")
else
    # Targets with an open, known failure (fuzz/known-failures/<target>/) are skipped
    # until it is fixed; FUZZ_SKIP= runs them too.
    skip=" ${FUZZ_SKIP-} "
    targets=()
    while read -r t; do
        [[ $skip == *" $t "* ]] && { echo "::: skipping $t (known failure, see docs/FUZZING.md)"; continue; }
        targets+=("$t")
    done < <(cargo fuzz list)
fi

mode=(--sanitizer address)
build_start=$(now)
if ! RUSTC_BOOTSTRAP=1 cargo fuzz build "${mode[@]}" --target-dir "$TARGET_DIR"; then
    echo "::: the sanitizer build failed on this toolchain; falling back to -s none"
    mode=(-s none)
    rm -rf "$TARGET_DIR"
    cargo fuzz build "${mode[@]}" --target-dir "$TARGET_DIR"
fi
echo "::: build took $(($(now) - build_start))s"

failed=0
report=()
for t in "${targets[@]}"; do
    corpus="$WORK/corpus/$t"
    artifacts="$WORK/artifacts/$t/"
    mkdir -p "$corpus" "$artifacts"
    seeds=()
    [ -d "seeds/$t" ] && seeds+=("seeds/$t")
    [ -d "regressions/$t" ] && seeds+=("regressions/$t")
    t0=$(now)
    log="$WORK/$t.log"
    if RUSTC_BOOTSTRAP=1 cargo fuzz run "${mode[@]}" --target-dir "$TARGET_DIR" "$t" "$corpus" "${seeds[@]}" -- \
        -max_total_time="$FUZZ_SECONDS" -dict="$(dict_for "$t")" -artifact_prefix="$artifacts" \
        -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
        execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
        rate=$(grep -m1 'stat::average_exec_per_sec' "$log" | awk '{print $2}')
        size=$(find "$corpus" -type f | wc -l)
        report+=("$(printf '%-30s %4ss %10s execs %8s/s  corpus %5s' "$t" "$(($(now) - t0))" "${execs:-?}" "${rate:-?}" "$size")")
    else
        failed=1
        tail -n 40 "$log"
        for crash in "$artifacts"*; do
            [ -f "$crash" ] || continue
            echo "::: $t failed; reproducer: $crash"
            echo "::: bytes (hex): $(od -An -tx1 -v "$crash" | tr -d ' \n')"
            echo "::: replay: cargo fuzz run $t $crash   (then add it to fuzz/regressions/$t/)"
        done
        report+=("$(printf '%-30s %4ss FAILED' "$t" "$(($(now) - t0))")")
    fi
done

echo "::: fuzz summary (mode: ${mode[*]}, ${FUZZ_SECONDS}s per target)"
for r in "${report[@]}"; do echo "  $r"; done
echo "::: fuzz total $(($(now) - start))s"
exit $failed
