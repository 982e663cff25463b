#!/usr/bin/env bash
# nats.py's own WebSocket tests, unmodified, against nats-ws-server presented to them as
# `nats-server`: tests/test_client_websocket.py and tests/test_custom_headers_websocket.py
# from the pinned nats-py source distribution (fetched with pip, checked against its
# SHA-256), our launcher module in their place of `tests/utils.py`
# (tests/interop/nats_py_suite/, which says why), a throwaway CA and certificates.
#
#   NATS_SERVER=PATH  the binary to present as nats-server (default: target/release/nats-ws-server,
#                     built here); e.g. NATS_SERVER=.venv-peers/bin/nats-server for the Go server
#
# The tests use fixed ports (4222, 8222, 8080, 8081) on 127.0.0.1, as nats.py's do.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=2.14.0
SHA256=4ed02cb8e3b55c68074a063aa2687087115d805d1513297da90cb2068fb07bed
SUITE=tests/interop/nats_py_suite
REQ=$SUITE/requirements.txt
VENV=$PWD/.venv-nats-py-suite
WORK=$PWD/target/nats-py-suite

sum() { sha256sum "$1" | cut -d' ' -f1; }

if [ -f "$VENV/.stamp" ] && [ "$(cat "$VENV/.stamp")" = "$(sum "$REQ")" ]; then
    echo "nats-py-suite: $VENV up to date"
else
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQ"
    sum "$REQ" > "$VENV/.stamp"
fi

sdist=$WORK/dl/nats_py-$VERSION.tar.gz
if [ ! -f "$sdist" ] || [ "$(sum "$sdist")" != "$SHA256" ]; then
    rm -rf "$WORK/dl"
    "$VENV/bin/pip" download --quiet --disable-pip-version-check --no-deps \
        --no-binary :all: "nats-py==$VERSION" -d "$WORK/dl"
fi
if [ "$(sum "$sdist")" != "$SHA256" ]; then
    echo "nats-py-suite: $sdist does not have the pinned SHA-256" >&2
    exit 1
fi

rm -rf "$WORK/run"
mkdir -p "$WORK/run/tests" "$WORK/run/bin" "$WORK/run/logs"
tar -xzf "$sdist" -C "$WORK/run" --strip-components=1 \
    "nats_py-$VERSION/tests/test_client_websocket.py" \
    "nats_py-$VERSION/tests/test_custom_headers_websocket.py"
cp "$SUITE/tests/utils.py" "$SUITE/tests/__init__.py" "$WORK/run/tests/"
cp -r "$SUITE/conf" "$WORK/run/"
bash tests/interop/gen-certs.sh "$WORK/run/certs"

server=${NATS_SERVER:-}
if [ -z "$server" ]; then
    cargo build --release --quiet -p nats-ws --bin nats-ws-server
    server=$PWD/target/release/nats-ws-server
fi
ln -sf "$(readlink -f "$server")" "$WORK/run/bin/nats-server"
echo "nats-py-suite: nats-py $VERSION's WebSocket tests against $("$WORK/run/bin/nats-server" -v)"

cd "$WORK/run"
PATH="$WORK/run/bin:$PATH" NATS_PY_SUITE_LOGS="$WORK/run/logs" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_client_websocket.py tests/test_custom_headers_websocket.py
