"""The helper processes' frames, and the WARC writer process' loop driven over a real pipe."""

from __future__ import annotations

import asyncio
import io
import os
import threading
import time
from pathlib import Path

import pytest

from newscrawl.archive.warc import FINISHED, OPEN, Exchange, WarcFiles, response_records, warc_date
from newscrawl.archive.writer import serve
from newscrawl.children import frame, unframe

MESSAGES = [("article", "x" * 70_000), 7, None, {"a": [1, 2]}, b"\x00" * 3]


@pytest.mark.parametrize("piece", [1, 3, 4, 5, 1000, 1 << 20])
def test_frames_cut_anywhere_come_back_whole_and_in_order(piece: int):
    stream = b"".join(map(frame, MESSAGES))
    pending, seen = bytearray(), []
    for start in range(0, len(stream), piece):
        pending += stream[start : start + piece]
        seen += unframe(pending)
    assert seen == MESSAGES and not pending


def test_a_partial_frame_stays_until_its_end_arrives():
    whole = frame("later")
    pending = bytearray(frame(1) + whole[:-1])
    assert unframe(pending) == [1] and bytes(pending) == whole[:-1]
    pending += whole[-1:]
    assert unframe(pending) == ["later"] and not pending


def exchange(number: int) -> Exchange:
    return Exchange(
        f"https://news.mydrivers.com/1/{number}.htm",
        "GET",
        [("Host", "news.mydrivers.com")],
        "HTTP/1.1",
        200,
        "OK",
        [("Content-Type", "text/html")],
        f"<p>{number}</p>".encode(),
        "127.0.0.1",
        warc_date(),
    )


def run_writer(folder: Path, messages: list) -> list[tuple]:
    """`serve` writing into `folder` over a real pipe fed `messages` (then closed); its answers."""
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as crawl:
        crawl.write(b"".join(map(frame, messages)))
    sink = io.BytesIO()
    try:
        serve(read_end, sink, WarcFiles(folder, "mydrivers-test", 10**9))
    finally:
        os.close(read_end)
    return unframe(bytearray(sink.getvalue()))


def test_the_writer_answers_a_sync_once_what_came_before_is_written_and_finishes_on_none(tmp_path: Path):
    answers = run_writer(tmp_path, [exchange(1), exchange(2), 0, exchange(3), None])
    [finished] = tmp_path.glob("*" + FINISHED)
    assert answers == [("synced", 0, 3), ("closed", 3, [str(finished)], None)]
    assert [capture.url for capture in response_records([finished])] == [exchange(n).url for n in (1, 2, 3)]
    assert not list(tmp_path.glob("*" + OPEN))


def test_when_the_crawl_dies_the_writer_leaves_its_file_unfinished_and_writes_nothing_unpromised(tmp_path: Path):
    read_end, write_end = os.pipe()
    sink = io.BytesIO()
    writer = threading.Thread(target=serve, args=(read_end, sink, WarcFiles(tmp_path, "mydrivers-test", 10**9)))
    writer.start()
    with os.fdopen(write_end, "wb") as crawl:
        crawl.write(frame(exchange(1)) + frame(0))
        crawl.flush()
        deadline = time.monotonic() + 30
        while not sink.getvalue() and time.monotonic() < deadline:  # the sync's answer: exchange 1 is written
            time.sleep(0.01)
        crawl.write(frame(exchange(2)))  # then the crawl dies: its end of the pipe closes, no None
    writer.join(timeout=30)
    os.close(read_end)
    assert unframe(bytearray(sink.getvalue())) == [("synced", 0, 1)]
    [unfinished] = tmp_path.glob("*" + OPEN)
    assert not list(tmp_path.glob("*" + FINISHED))
    unfinished.rename(unfinished.with_name(unfinished.name[: -len(OPEN)] + FINISHED))
    assert [capture.url for capture in response_records(tmp_path.glob("*" + FINISHED))] == [exchange(1).url]


def test_a_write_that_fails_is_answered_once_and_nothing_is_written_after_it(tmp_path: Path):
    folder = tmp_path / "warc"
    folder.write_text("a file where the folder should be")  # every write fails
    kinds = [answer[0] for answer in run_writer(folder, [exchange(1), 0, exchange(2), 1, None])]
    assert kinds == ["failed", "synced", "synced", "closed"]


def test_a_file_smaller_than_one_record_still_takes_one_exchange_and_the_batch_moves_on(tmp_path: Path):
    files = WarcFiles(tmp_path, "mydrivers-test", 1)  # every file is past its size after its warcinfo
    writing = threading.Thread(target=files.write, args=([exchange(n) for n in range(3)],), daemon=True)
    writing.start()
    writing.join(timeout=20)
    assert not writing.is_alive(), "the write went round without writing an exchange"
    assert len(files.finished) == 3 and not list(tmp_path.glob("*" + OPEN))
    assert [capture.url for capture in response_records(files.finished)] == [exchange(n).url for n in range(3)]


def test_an_answer_reaches_its_caller_while_the_child_still_reads_what_others_asked(tmp_path: Path):
    """Forty callers ask a helper at once, each 256 kB (far over the pipe's buffer): the first caller has
    its answer while the child is still working through the others' messages, not once all are read.
    The helper here is the post stager, whose answers are files: they show how far the child had got."""
    from newscrawl.helper import Helper
    from newscrawl.state.files import TEMPORARY_PREFIX

    callers = 40

    async def crowd() -> int:
        helper = Helper("newscrawl.state.stager", "the stager")
        await helper.start()
        staged_when_first_answered: list[int] = []

        async def ask(number: int) -> None:
            await helper.ask([(str(tmp_path / f"{number}.md"), "x" * 256_000)])
            if not staged_when_first_answered:
                staged_when_first_answered.append(len(list(tmp_path.glob(TEMPORARY_PREFIX + "*"))))

        await asyncio.gather(*(ask(number) for number in range(callers)))
        await helper.close()
        assert len(list(tmp_path.glob(TEMPORARY_PREFIX + "*"))) == callers  # every message was answered
        return staged_when_first_answered[0]

    assert asyncio.run(crowd()) < callers // 2
