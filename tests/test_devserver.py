"""The bundled-site server: a real HTTP server, checked over real sockets with urllib."""

import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import Server, request_log


@pytest.fixture
def server(tmp_path: Path):
    site = tmp_path / "root" / "example.com"
    (site / "news").mkdir(parents=True)
    (site / "a.htm").write_bytes("<p>小</p>".encode("gbk"))
    (site / "news" / "123").write_text("<p>no extension</p>")
    (site / "list").write_text("page one")
    (site / "list@p=2&type=ajax").write_text("page two")
    (site / "moved.htm.redirect").write_text("https://elsewhere.example/x.htm\n")
    (tmp_path / "secret.txt").write_text("outside the root")
    running = Server([tmp_path / "root"])
    yield running.url
    running.stop()


def get(url: str) -> tuple[int, str, bytes, str | None]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read(), response.headers["Location"]
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read(), error.headers["Location"]


def test_pages_bytes_and_types(server: str):
    assert get(f"{server}/example.com/a.htm")[:3] == (200, "text/html", "<p>小</p>".encode("gbk"))
    assert get(f"{server}/example.com/news/123")[:3] == (200, "text/html", b"<p>no extension</p>")


def test_query_strings_pick_their_own_file(server: str):
    assert get(f"{server}/example.com/list?p=2&type=ajax")[2] == b"page two"
    assert get(f"{server}/example.com/list?p=1&type=ajax")[2] == b"page one"


def test_redirect_files(server: str):
    status, _, _, location = get(f"{server}/example.com/moved.htm")
    assert (status, location) == (301, "https://elsewhere.example/x.htm")


def test_missing_and_escaping_paths_are_404(server: str):
    assert get(f"{server}/example.com/nope.htm")[0] == 404
    assert get(f"{server}/example.com/../secret.txt")[0] in (404, 400)
    assert get(f"{server}/example.com/%2e%2e/%2e%2e/secret.txt")[0] == 404


def test_a_busy_port_is_one_line_and_exit_1(site_server):
    """The port the session's server holds: a second server on it says so in one line."""
    import subprocess
    import sys

    from conftest import REPO

    port = site_server.url.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, "-m", "newscrawl.dev.server", "--port", port],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"devserver: cannot listen on 127.0.0.1:{port} (Address already in use): "
        "port busy? try another --port, or --port 0 for a free one"
    ]


def test_the_request_log_holds_every_path_asked_for(tmp_path: Path):
    log = tmp_path / "requests.log"
    started = time.time()
    server = Server([Path(__file__).resolve().parent.parent / "fixtures/mydrivers/site"], request_log=log)
    try:
        for path in ("/news.mydrivers.com/tag/laika.htm", "/nowhere/x?y=1"):
            try:
                urllib.request.urlopen(server.url + path, timeout=10).read()
            except urllib.error.HTTPError:
                pass
    finally:
        server.stop()
    lines = request_log(log)
    assert [path for _, path in lines] == ["/news.mydrivers.com/tag/laika.htm", "/nowhere/x?y=1"]
    times = [float(moment) for moment, _ in lines]
    assert started <= times[0] <= times[1] <= time.time()
