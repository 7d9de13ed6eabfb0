"""Posts staged in the staging process (NEWSCRAWL_POSTS_STAGE_PROCESS, newscrawl/state/stager.py) are the
posts the post writer's thread stages, and a crawl whose staging process dies loses nothing: the
thread stages them from then on."""

from __future__ import annotations

import os
import subprocess
import sys
from io import BytesIO
from pathlib import Path

from conftest import run_crawl

from newscrawl.children import frame, unframe
from newscrawl.state.stager import serve

TAGS = "tag=xiaomi12_ultra,windows_11,laika"


def test_the_process_the_thread_and_a_killed_process_stage_the_same_posts(tmp_path: Path, site_server):
    def crawl(name: str, enabled: bool, env: dict[str, str] | None = None):
        result = run_crawl(
            tmp_path / name,
            site_server,
            "-a",
            TAGS,
            incremental=True,
            # One article a batch: the process is asked more than twice, so the kill lands mid-run.
            settings={"NEWSCRAWL_POSTS_STAGE_PROCESS": str(enabled), "CONCURRENT_REQUESTS": "1"},
            env=env,
        )
        assert result.returncode == 0, result.log[-3000:]
        return result

    process = crawl("process", True)
    thread = crawl("thread", False)
    killed = crawl("killed", True, env={"NEWSCRAWL_CRASH_AT": "post-stage:3"})
    assert len(process.posts) >= 6
    leftovers = {name: text for name, text in killed.posts.items() if name.startswith(".tmp-")}
    published = {name: text for name, text in killed.posts.items() if name not in leftovers}
    assert process.posts == thread.posts == published
    # What the process had staged of the batch it died in: copies of posts the thread staged again and the
    # journal's commit published (a later run removes them once stale).
    assert len(leftovers) <= 2 and set(leftovers.values()) <= set(published.values())
    assert [item["article_id"] for item in killed.items] == [item["article_id"] for item in process.items]
    assert "newscrawl/posts/stage_process_gone" not in process.stats | thread.stats
    # The process died before staging its 3rd post: the thread staged the batch it died in and every later one.
    assert len(published) - 2 <= killed.stats["newscrawl/posts/stage_process_gone"] <= len(published)
    assert killed.log.count("staging posts in the crawl process from now on") == 1


def test_the_process_answers_each_file_of_a_batch(tmp_path: Path):
    (tmp_path / "same.md").write_text("kept", encoding="utf-8")
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    batch = [
        (str(tmp_path / "new.md"), "新 text"),
        (str(tmp_path / "same.md"), "kept"),
        (str(tmp_path / "a-file" / "x.md"), "x"),
    ]
    sink = BytesIO()
    serve(BytesIO(frame(batch)), sink)
    [[staged, same, failed]] = unframe(bytearray(sink.getvalue()))
    staged = Path(staged)
    assert (
        staged.parent == tmp_path
        and staged.name.startswith(".tmp-")
        and staged.read_text(encoding="utf-8") == "新 text"
    )
    assert staged.stat().st_mode & 0o777 == 0o666 & ~_umask()
    assert not (tmp_path / "new.md").exists()  # staged, not renamed: that is the journal's commit's
    assert same is None
    assert isinstance(failed, OSError) and "a-file" in str(failed)


def test_the_process_starts_without_scrapy():
    probe = "import sys, newscrawl.state.stager; print(sorted({'scrapy', 'twisted'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
