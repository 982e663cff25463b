#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: every cargo-fuzz target, its seed corpus and its
# dictionary (fuzz/dicts, chosen as in fuzz/ci.sh).
cd "$SRC/nats-ws/fuzz"
cargo fuzz build -O --debug-assertions
dict_for() {
    case $1 in
        handshake) echo dicts/http.dict ;;
        extensions) echo dicts/extensions.dict ;;
        conf) echo dicts/conf.dict ;;
        nats_parser) echo dicts/nats.dict ;;
        mqtt_packet) echo dicts/mqtt.dict ;;
        *) echo dicts/frames.dict ;;
    esac
}
for t in $(cargo fuzz list); do
    cp "target/x86_64-unknown-linux-gnu/release/$t" "$OUT/"
    cp "$(dict_for "$t")" "$OUT/$t.dict"
    dirs=()
    [ -d "seeds/$t" ] && dirs+=("seeds/$t")
    [ -d "regressions/$t" ] && dirs+=("regressions/$t")
    if [ ${#dirs[@]} -gt 0 ]; then
        # Flat zip: libFuzzer wants the inputs at the top level.
        zip -q -j "$OUT/${t}_seed_corpus.zip" $(find "${dirs[@]}" -type f)
    fi
done
