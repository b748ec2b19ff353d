#!/usr/bin/env bash
# Run the consumer and the API together in the foreground; Ctrl-C (or SIGTERM) stops both.
set -euo pipefail
bin="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin"
"$bin/ums-find" consume &
consumer=$!
"$bin/ums-find" serve &
api=$!
trap 'kill -TERM "$consumer" "$api" 2>/dev/null || true' INT TERM
# Whichever ends first (or a signal) brings the other down too.
wait -n "$consumer" "$api" || true
kill -TERM "$consumer" "$api" 2>/dev/null || true
wait "$consumer" "$api" || true
