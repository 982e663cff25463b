#!/usr/bin/env bash
# Generates a throwaway test CA and a server certificate for 127.0.0.1/localhost into DIR
# (ca.pem, server-cert.pem, server-key.pem) and a client certificate signed by the same CA
# (client-cert.pem, client-key.pem). Run at test time; nothing here is committed.
set -euo pipefail
dir=${1:?usage: gen-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=nats-ws interop test CA" \
    -keyout ca-key.pem -out ca.pem -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout server-key.pem -out server.csr 2>/dev/null
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    "basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
    -extfile server.ext -out server-cert.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=nats-ws interop client" \
    -keyout client-key.pem -out client.csr 2>/dev/null
printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" \
    "extendedKeyUsage=clientAuth" > client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
    -extfile client.ext -out client-cert.pem 2>/dev/null
rm -f server.csr server.ext client.csr client.ext ca.srl
