#!/usr/bin/env bash
# Drives `council serve` with the official Python `openai` client, on the
# offline council (no key, no network beyond the package registry for the
# venv). Usage: scripts/openai-client-check.sh [council serve options]
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/openai-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -c 'import openai' 2>/dev/null || "$venv/bin/pip" install --quiet openai

cargo build --release --locked --quiet
log=$(mktemp)
target/release/council serve --listen 127.0.0.1:0 "${@:---preset=local}" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 600); do
    url=$(grep -o 'http://[0-9.:]*/v1' "$log" || true)
    [ -n "$url" ] && break
    kill -0 $server 2>/dev/null || { cat "$log"; exit 1; }
    sleep 0.5
done
[ -n "$url" ] || { echo "council serve did not start"; cat "$log"; exit 1; }
"$venv/bin/python" scripts/openai_client_check.py "$url"
