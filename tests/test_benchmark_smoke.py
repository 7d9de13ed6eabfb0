"""The benchmark keeps working (N=50; no figure is asserted, only that every one is produced)."""

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def test_benchmark_runs_end_to_end(tmp_path: Path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/bench.py",
            "--articles",
            "50",
            "--rss-sizes",
            "30",
            "--bench-seconds",
            "3",
            "--repeat",
            "1",
            "--history",
            "300",
            "--json",
            str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-2000:]
    report = json.loads(out.read_text())
    assert report["crawl_default"]["articles"] == report["crawl_recommended"]["articles"] == 50
    assert report["incremental_rerun"]["articles"] == 0
    assert report["crawl_recommended_twisted"]["articles"] == report["crawl_recommended_feeds_off"]["articles"] == 50
    assert report["feeds"]["feed_writing_seconds"] > 0 and "cost_share" in report["feeds"]  # written, and measured
    assert report["crawl_recommended_capture"]["articles"] == 50 and report["capture"]["warc_mb_per_1000_articles"] > 0
    assert report["crawl_recommended_images"]["articles"] == 50 and report["images"]["images"] >= 100
    assert report["images"]["mb_stored"] > 0 and report["images"]["images_per_second"] > 0
    assert report["images"]["cpu_ms_per_image"] > 0 and "cpu_ms_per_image_beyond_articles" in report["images"]
    assert report["crawl_recommended"]["images"] == 0  # off by default
    assert (
        report["crawl_recommended_distinct_bodies"]["articles"] == 50
        and "cost_share" in report["stories_distinct_bodies"]
    )
    for key in ("scrapy_bench", "crawl_default", "crawl_recommended", "crawl_recommended_twisted"):
        assert report[key]["pages_per_second"] > 0 and len(report[key]["pages_per_second_each_run"]) == 1
    assert set(report["peak_rss_mb"]) == {"30"}
    assert {"sanitiser", "dates", "html_parse_and_selectors", "download_and_framework (rest)"} <= set(
        report["cpu_us_per_article"]
    )
    assert "ratio_to_scrapy_bench" in report["crawl_recommended"] and "scrapy bench" in done.stdout
    assert report["crawl_recommended_stories_off"]["articles"] == 50 and "cost_share" in report["stories"]
    assert report["crawl_recommended_all_middlewares"]["articles"] == 50 and "gain" in report["lean_middlewares"]
    two = report["crawl_recommended_two_processes"]
    assert two["articles"] == 50 and len(two["articles_by_process"]) == 2 and "2 processes, one state" in done.stdout
    history = report["history"]["300"]
    assert history["journal_mb"] > 0.5  # grown past the crawl's 50 articles
    for phase in ("recovering_rerun", "ordinary_rerun", "copied_journal_rerun", "rebuilt_state_rerun"):
        assert history[phase]["articles"] == 0 and history[phase]["peak_rss_mb"] > 0  # nothing exported twice
    assert history["report"]["peak_rss_over_ordinary_rerun"] > 0


def test_image_cpu_pairs_each_round_with_its_own_run_without_images():
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bench  # noqa: PLC0415 (the benchmark is a script, not a package)

    with_images = [{"cpu_seconds": 12.0, "images": 4000}, {"cpu_seconds": 20.0, "images": 4000}]
    without = [{"cpu_seconds": 8.0, "images": 0}, {"cpu_seconds": 18.0, "images": 0}]
    figures = bench.image_cpu(with_images, without)
    assert figures["cpu_ms_per_image"] == 4.0  # median of 3.0 and 5.0
    assert figures["cpu_ms_per_image_beyond_articles"] == 0.75  # median of 1.0 and 0.5
    assert figures["images_per_cpu_second"] == 1333.3
    assert bench.image_cpu(with_images[:1], [{"cpu_seconds": 13.0, "images": 0}])["images_per_cpu_second"] is None


def test_distinct_bodies_keep_the_markup_and_size_and_share_no_text():
    sys.path.insert(0, str(REPO / "benchmarks"))
    import bench  # noqa: PLC0415 (the benchmark is a script, not a package)

    page = '<h1>标题</h1><div class="news_info"><p>小米发布新机，售价3999元。</p><img alt="图"></div>'
    one, two = bench.distinct_body(page, 1), bench.distinct_body(page, 8)
    assert one.startswith('<h1>标题</h1><div class="news_info"><p>')  # the title and markup as they were
    assert len(one) == len(page) and len(one.encode("gb18030")) == len(page.encode("gb18030"))
    assert "3999" in one and "，" in one and '<img alt="图">' in one  # digits, punctuation, attributes kept
    body = [page.split("<p>")[1], one.split("<p>")[1], two.split("<p>")[1]]
    assert len({text[:2] for text in body}) == 3  # three different texts
    assert bench.distinct_body("<p>没有正文容器</p>", 5) == "<p>没有正文容器</p>"
