"""A crawler that cannot be turned against its host: pages that point the crawl at local files, at the
metadata address and at private hosts, by next links and by redirects. Witnesses: the server's own log
of every request it received, and the WARC capture of every response the crawler got."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import MYDRIVERS_SITE, Server, requested_paths, run_crawl
from warcio.archiveiterator import ArchiveIterator

METADATA = "http://169.254.169.254/latest/meta-data/"


def next_link(page: Path, href: str) -> None:
    """Give a tag's last page a 下一页 link to `href`."""
    text = page.read_text(encoding="utf-8")
    page.write_text(
        text.replace("<span>2</span></div>", f'<span>2</span> <a href="{href}">下一页</a></div>'), encoding="utf-8"
    )


def captured_uris(warc: Path) -> list[str]:
    uris = []
    for path in sorted(warc.glob("*.warc.gz")):
        with open(path, "rb") as stream:
            uris += [
                record.rec_headers.get_header("WARC-Target-URI")
                for record in ArchiveIterator(stream)
                if record.rec_type == "response"
            ]
    return uris


def test_next_links_and_redirects_out_of_scope_are_never_requested(tmp_path: Path):
    site = tmp_path / "site"
    shutil.copytree(MYDRIVERS_SITE, site)
    host = site / "news.mydrivers.com"
    next_link(host / "tag/windows_11_2.htm", "file:///etc/hostname")
    next_link(host / "tag/nvidia_2.htm", METADATA)
    (host / "tag/intel.htm.redirect").write_text(METADATA)  # a tag page redirected off the site
    (host / "1/833/833153.htm.redirect").write_text("http://10.0.0.1/steal.htm")  # an article redirected off it
    (host / "1/848/848601.htm.redirect").write_text("http://news.mydrivers.com@169.254.169.254/")
    requests = tmp_path / "requests.log"
    server = Server([site], request_log=requests)
    try:
        result = run_crawl(
            tmp_path,
            server,
            "-a",
            "tag=windows_11,nvidia,intel,xiaomi12_ultra",
            incremental=True,
            settings={"NEWSCRAWL_WARC_DIR": str(tmp_path / "warc")},
        )
    finally:
        server.stop()
    paths = requested_paths(requests)
    assert paths and all(path.startswith("/news.mydrivers.com/") for path in paths), [
        path for path in paths if not path.startswith("/news.mydrivers.com/")
    ]
    uris = captured_uris(tmp_path / "warc")
    assert uris and all(uri.startswith("https://news.mydrivers.com/") for uri in uris), [
        uri for uri in uris if not uri.startswith("https://news.mydrivers.com/")
    ]
    stats = result.stats
    assert stats["newscrawl/scope/refused/scheme"] == 1  # the file: next link
    assert stats["newscrawl/scope/refused/host"] == 3  # the metadata next link and redirect, 10.0.0.1
    assert stats["newscrawl/scope/refused/userinfo"] == 1
    assert "Refused a request out of the crawl's scope (host): http://169.254.169.254/latest/meta-data/" in result.log
    assert "Traceback" not in result.log
    exported = {item["article_id"] for item in result.items}
    assert not exported & {"833153", "848601"}
    assert result.returncode == 2 and stats["newscrawl/attention/first_page_gone"] == 1  # intel's page 1 is elsewhere
    assert result.stats.get("newscrawl/pending/articles", 0) == 0  # refused ones are settled, not retried forever
