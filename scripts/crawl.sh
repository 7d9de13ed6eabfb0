#!/usr/bin/env bash
# The main job: set up on first use, then a real `scrapy crawl mydrivers -a tag=xiaomi12_ultra`.
# No machine here reaches news.mydrivers.com, so the crawl runs against the bundled site, served by
# a real HTTP server on 127.0.0.1 (NEWSCRAWL_OFFLINE_ROOT). An incremental run, as a scheduled job
# would do it: appends new articles to output/mydrivers.jsonl, writes output/posts/mydrivers/*.md and
# output/feeds/, keeps output/mydrivers.state.sqlite (run it again: nothing new, nothing written).
# Arguments go to `scrapy crawl` (e.g. -a tag=windows_11 -a max_pages=2, or -s NAME=VALUE); without a
# `-a tag=` or `-a url=` among them, the crawl is of the default tag, xiaomi12_ultra.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

log=$(mktemp)
python -m newscrawl.dev.server >"$log" &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 50); do grep -q '^serving ' "$log" && break; sleep 0.1; done
root=$(sed -n 's/^serving //p' "$log")
[ -n "$root" ] || { echo "the bundled-site server did not start" >&2; exit 1; }
echo "bundled site served at $root" >&2

case " $* " in
    *" tag="* | *" url="* | *" -atag="* | *" -aurl="*) ;;
    *) set -- -a tag=xiaomi12_ultra "$@" ;;
esac
scrapy crawl mydrivers "$@" -s NEWSCRAWL_OFFLINE_ROOT="$root"
# The journal: output/mydrivers.jsonl, and output/mydrivers.p<N>.jsonl of a crawl by several processes.
journals=$(ls output/mydrivers.jsonl output/mydrivers.p[0-9]*.jsonl 2>/dev/null | tr '\n' ' ' || true)
lines=$(cat /dev/null $journals | wc -l)
echo "the journal (${journals% }) holds $lines line(s), one per new article or update; posts in output/posts/mydrivers/;" \
     "Atom feeds in output/feeds/; run summary in output/mydrivers.summary*.json;" \
     "\`source scripts/setup.sh && scrapy report\` draws it all in output/report.html" >&2
