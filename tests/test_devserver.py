"""The bundled-site server: a real HTTP server, checked over real sockets with urllib."""

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from conftest import Server


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
