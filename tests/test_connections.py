"""Connections are kept alive: a fast crawl does not open a new TCP connection for most requests.

Twisted's pool, sized by Scrapy to CONCURRENT_REQUESTS_PER_DOMAIN, closed most connections as they came
back (newscrawl/fetch/handler.py). This serves a synthetic site of 300 articles over HTTP/1.1 keep-alive and
counts the connections the crawl opens.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

from conftest import REPO, run_crawl

sys.path.insert(0, str(REPO / "benchmarks"))
from bench import build_site  # noqa: E402  (the benchmark's synthetic site, made from the fixture pages)


class KeepAliveHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # SimpleHTTPRequestHandler sends Content-Length: connections persist
    connections: list[object] = []

    def setup(self) -> None:
        super().setup()
        self.connections.append(self.client_address)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's naming)
        pass


def test_a_fast_crawl_reuses_its_connections(tmp_path: Path):
    root = tmp_path / "site"
    build_site(root, 300)
    KeepAliveHandler.connections = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(KeepAliveHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run_crawl(
            tmp_path / "out",
            SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}"),
            "-a",
            "tag=bench",
            "-a",
            "max_pages=100",
            settings={"CONCURRENT_REQUESTS_PER_DOMAIN": "4"},
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.log[-3000:]
    assert len(result.items) == 300
    requests = result.stats["downloader/request_count"]
    # Room for 4 × 4 kept-alive connections: 11–16 were opened; Scrapy's own pool of 4 opened ~150.
    assert len(KeepAliveHandler.connections) <= 32, (
        f"{len(KeepAliveHandler.connections)} connections for {requests} requests"
    )


POOL_CHECK = """
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler
from newscrawl.fetch.handler import keep_more_connections_alive
client = build_from_crawler(HTTP11DownloadHandler, get_crawler(settings_dict={"TWISTED_REACTOR_ENABLED": True}))
print(keep_more_connections_alive(client, 37), client._pool.maxPersistentPerHost, keep_more_connections_alive(object(), 37))
"""


def test_the_pool_newscrawl_sizes_is_still_in_scrapy():
    """The one private Scrapy attribute newscrawl touches (offline.keep_more_connections_alive): fails
    loudly when a Scrapy upgrade removes it, rather than silently opening a connection per request.
    In a child process: the handler needs an installed reactor, which this test process must not get."""
    checked = subprocess.run([sys.executable, "-c", POOL_CHECK], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert checked.stdout.split() == ["True", "37", "False"], checked.stderr[-2000:]
