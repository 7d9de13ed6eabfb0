"""A real HTTP server on 127.0.0.1 for the bundled sites (offline crawls, tests, demos).

`python -m newscrawl.dev.server` serves every `fixtures/<site>/site/` folder: the URL path starts with
the real host name, so `https://news.mydrivers.com/tag/x.htm` is `/news.mydrivers.com/tag/x.htm`
here (newscrawl/fetch/handler.py does that mapping). HTML goes out as `text/html` with no charset, as the
2026 probe of 快科技 saw; pages carry their own `<meta>` charset where they have one. A file
`<path>.redirect` holding a URL answers `<path>` with a 301 to that URL (tests of redirects). A URL
with a query string is served from the file `<path>@<query>` when there is one (listing endpoints
such as `list?p=2`). Files without an extension are HTML (sites with extensionless URLs). It prints
`serving http://127.0.0.1:PORT` once it listens.

Fault injection, for the hostile-web tests: a file `<path>.fault` holding JSON makes `<path>`
misbehave — `{"status": 503, "times": 2}` (that status, then the page; with `"headers"`, these too:
`{"status": 429, "times": 1, "headers": {"Retry-After": "1"}}`), `{"status": 410}` (always),
`{"reset": true}` (connection reset, no response), `{"stall": 5}` (silence for 5 s), `{"trickle": 0.3}`
(the page in 10 slow pieces over 0.3 s), `{"truncate": true}` (Content-Length larger than the body),
`{"gzip_bomb": N}` (N zero bytes, gzip-compressed), `{"size": N}` (the page padded to N bytes),
`{"headers": {...}}` (these response headers instead of the usual ones).

`--log FILE` appends every request it receives, one a line, `<unix time> <path>`: what a crawl asked
for and when, for the tests of the crawl's scope and politeness.

Hotlink protection, for the image tests: a file `<host>/.referer` listing Referer prefixes (one per
line) makes every URL of that host but robots.txt answer 403 to a request whose Referer starts with
none of them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import mimetypes
import socket
import struct
import sys
import threading
import time
from collections import Counter
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
_HITS: Counter[str] = Counter()  # requests per path, for faults that recover after N tries
_LOCK = threading.Lock()


def default_roots(fixtures: Path = DEFAULT_FIXTURES) -> list[Path]:
    return sorted(path for path in fixtures.glob("*/site") if path.is_dir())


class FixtureHandler(BaseHTTPRequestHandler):
    server_version = "newscrawl-devserver"

    def __init__(self, *args: object, roots: list[Path], request_log: Path | None = None, **kwargs: object) -> None:
        self.roots = roots
        self.request_log = request_log
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed and self.request_log is not None:
            with _LOCK, open(self.request_log, "a", encoding="utf-8") as log:
                log.write(f"{time.time():.3f} {self.path}\n")
        return parsed

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionError:  # the client hung up (a refused 20 MB page, a timeout): not our error
            pass

    def _find(self, suffix: str = "") -> Path | None:
        parts = urlsplit(self.path)
        path = unquote(parts.path).lstrip("/")
        names = ([f"{path}@{unquote(parts.query)}{suffix}"] if parts.query else []) + [path + suffix]
        for root in self.roots:
            for name in names:
                candidate = (root / name).resolve()
                if candidate.is_relative_to(root.resolve()) and candidate.is_file():
                    return candidate
        return None

    def _hotlink_refused(self) -> bool:
        """A host folder with a `.referer` file (allowed Referer prefixes, one per line) answers 403 to a
        request whose Referer starts with none of them, as image CDNs' hotlink protection does (robots.txt
        excepted)."""
        host, _, rest = unquote(urlsplit(self.path).path).lstrip("/").partition("/")
        if rest == "robots.txt":
            return False
        referer = self.headers.get("Referer") or ""
        for root in self.roots:
            rule = root / host / ".referer"
            if host and rule.is_file():
                allowed = [line.strip() for line in rule.read_text(encoding="utf-8").splitlines() if line.strip()]
                return not any(referer.startswith(prefix) for prefix in allowed)
        return False

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self._hotlink_refused():
            self._send(403, b"hotlinking refused\n", "text/plain")
            return
        fault_file = self._find(".fault")
        if fault_file is not None and self._misbehave(json.loads(fault_file.read_text(encoding="utf-8"))):
            return
        redirect = self._find(".redirect")
        if redirect is not None:
            self.send_response(301)
            self.send_header("Location", redirect.read_text(encoding="utf-8").strip())
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        found = self._find()
        if found is None:
            self._send(404, b"not found\n", "text/plain")
            return
        html = found.suffix in (".htm", ".html", "") or "@" in found.name
        kind = "text/html" if html else mimetypes.guess_type(found.name)[0]
        self._send(200, found.read_bytes(), kind or "application/octet-stream")

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {"Content-Type": content_type, "Content-Length": str(len(body))}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _misbehave(self, fault: dict) -> bool:
        """Act out `fault`; False when the request should now be served normally."""
        page = self._find()
        body = page.read_bytes() if page else b""
        if "status" in fault:
            with _LOCK:
                _HITS[self.path] += 1
                hits = _HITS[self.path]
            if hits > fault.get("times", float("inf")):
                return False
            extra = fault.get("headers", {})
            self._send(fault["status"], b"fault\n", "", {"Content-Type": "text/plain", "Content-Length": "6", **extra})
        elif fault.get("reset"):  # RST instead of a response
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        elif "stall" in fault:
            time.sleep(fault["stall"])
            self.close_connection = True
        elif "trickle" in fault:
            self._send(200, b"", "", {"Content-Type": "text/html", "Content-Length": str(len(body))})
            step = max(1, len(body) // 10)
            for start in range(0, len(body), step):
                self.wfile.write(body[start : start + step])
                self.wfile.flush()
                time.sleep(fault["trickle"] / 10)
        elif fault.get("truncate"):
            self._send(200, body[: len(body) // 2], "", {"Content-Type": "text/html", "Content-Length": str(len(body))})
            self.close_connection = True
        elif "gzip_bomb" in fault:
            bomb = gzip.compress(b"\0" * fault["gzip_bomb"], compresslevel=9)
            self._send(
                200,
                bomb,
                "",
                {"Content-Type": "text/html", "Content-Encoding": "gzip", "Content-Length": str(len(bomb))},
            )
        elif "size" in fault:
            padded = body + b" " * max(0, fault["size"] - len(body))
            self._send(200, padded, "text/html")
        elif "headers" in fault:
            self._send(200, body, "", {**fault["headers"], "Content-Length": str(len(body))})
        else:
            return False
        return True

    def log_message(self, format: str, *args: object) -> None:  # quiet: the crawler logs requests
        pass


class _Server(ThreadingHTTPServer):
    # The listen backlog: socketserver's 5 drops connections a crawl opens at once (32 and more),
    # which then wait for the client's SYN retries.
    request_queue_size = 256


def make_server(
    roots: list[Path], port: int = 0, host: str = "127.0.0.1", request_log: Path | None = None
) -> ThreadingHTTPServer:
    return _Server((host, port), partial(FixtureHandler, roots=roots, request_log=request_log))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        action="append",
        type=Path,
        help="folder whose subfolders are host names (repeatable; default: fixtures/*/site)",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--log", type=Path, help="append the time and path of every request received to this file")
    args = parser.parse_args(argv)
    roots = args.root or default_roots()
    try:
        server = make_server(roots, args.port, request_log=args.log)
    except OSError as error:
        sys.exit(
            f"devserver: cannot listen on 127.0.0.1:{args.port} ({error.strerror}): port busy? try another --port, "
            "or --port 0 for a free one"
        )
    print(f"serving http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
