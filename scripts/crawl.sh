#!/usr/bin/env bash
# The main job: set up on first use, then a real `scrapy crawl mydrivers -a tag=xiaomi12_ultra`.
# No machine here reaches news.mydrivers.com, so the crawl runs against the bundled site, served by
# a real HTTP server on 127.0.0.1 (NEWSCRAWL_OFFLINE_ROOT). Writes output/mydrivers.jsonl and
# output/posts/mydrivers/*.md. Extra arguments go to `scrapy crawl` (e.g. -a tag=windows_11).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

log=$(mktemp)
python -m newscrawl.devserver >"$log" &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 50); do grep -q '^serving ' "$log" && break; sleep 0.1; done
root=$(sed -n 's/^serving //p' "$log")
[ -n "$root" ] || { echo "the bundled-site server did not start" >&2; exit 1; }
echo "bundled site served at $root" >&2

if [ "$#" -eq 0 ]; then set -- -a tag=xiaomi12_ultra; fi
scrapy crawl mydrivers "$@" \
    -O output/mydrivers.jsonl \
    -s NEWSCRAWL_OFFLINE_ROOT="$root" \
    -s NEWSCRAWL_SUMMARY_FILE=output/mydrivers.summary.json
echo "wrote output/mydrivers.jsonl and output/posts/mydrivers/ ($(wc -l < output/mydrivers.jsonl) articles)" >&2
