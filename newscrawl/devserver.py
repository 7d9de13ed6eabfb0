"""A real HTTP server on 127.0.0.1 for the bundled sites (offline crawls, tests, demos).

`python -m newscrawl.devserver` serves every `fixtures/<site>/site/` folder: the URL path starts with
the real host name, so `https://news.mydrivers.com/tag/x.htm` is `/news.mydrivers.com/tag/x.htm`
here (newscrawl/offline.py does that mapping). HTML goes out as `text/html` with no charset, as the
2026 probe of 快科技 saw; pages carry their own `<meta>` charset where they have one. A file
`<path>.redirect` holding a URL answers `<path>` with a 301 to that URL (tests of redirects). A URL
with a query string is served from the file `<path>@<query>` when there is one (listing endpoints
such as `list?p=2`). Files without an extension are HTML (sites with extensionless URLs). It prints
`serving http://127.0.0.1:PORT` once it listens.
"""

from __future__ import annotations

import argparse
import mimetypes
import sys
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def default_roots(fixtures: Path = DEFAULT_FIXTURES) -> list[Path]:
    return sorted(path for path in fixtures.glob("*/site") if path.is_dir())


class FixtureHandler(BaseHTTPRequestHandler):
    server_version = "newscrawl-devserver"

    def __init__(self, *args: object, roots: list[Path], **kwargs: object) -> None:
        self.roots = roots
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

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

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
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

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet: the crawler logs requests
        pass


def make_server(roots: list[Path], port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), partial(FixtureHandler, roots=roots))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", action="append", type=Path,
                        help="folder whose subfolders are host names (repeatable; default: fixtures/*/site)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    roots = args.root or default_roots()
    server = make_server(roots, args.port)
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
