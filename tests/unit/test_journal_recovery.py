"""How a journal's recovery finds what the state has not recorded, without holding it: the stretches it
returns, the lines read back from them one at a time, and the samples that recognise a copy."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from faults import replace_by_copy

from newscrawl.state.journal import SAMPLES, Journal, JournalError, JournalMark, Sample


def _records(first: int, count: int, padding: int = 0) -> list[dict]:
    return [
        {"site": "s", "article_id": str(n), "revision": 1, "body": "x" * (padding + n % 7)}
        for n in range(first, first + count)
    ]


def test_lines_are_read_back_from_the_stretches_found_in_order(tmp_path: Path):
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.append(_records(0, 3))
    journal.close()
    path.rename(tmp_path / "j.jsonl.1")
    journal = Journal(path)
    journal.append(_records(3, 2))
    recovery = journal.recover(None, "s")
    assert recovery.count == 5 and [segment.path.name for segment in recovery.segments] == ["j.jsonl.1", "j.jsonl"]
    lines = list(journal.lines(recovery, "s"))
    assert [line["article_id"] for line, _ in lines] == ["0", "1", "2", "3", "4"]
    assert recovery.mark == JournalMark(path.stat().st_size, path.stat().st_dev, path.stat().st_ino)
    assert [ref.offset for _, ref in lines[3:]] == [0, lines[3][1].length]
    journal.close()


def test_every_line_is_checked_when_found(tmp_path: Path):
    journal = Journal(tmp_path / "j.jsonl")
    journal.append(_records(0, 4))

    def refuse_the_third(line: dict) -> None:
        if line["article_id"] == "2":
            raise JournalError("not an article of this newscrawl")

    with pytest.raises(JournalError, match="not an article"):
        journal.recover(None, "s", refuse_the_third)
    journal.close()


def test_a_copy_is_shown_to_the_state_by_lines_spread_over_it_the_last_among_them(tmp_path: Path):
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    mark, refs = journal.append(_records(0, 200, padding=50))
    journal.append(_records(200, 3))  # a tail the state has not recorded
    journal.close()
    replace_by_copy(path)
    shown: list[list[Sample]] = []

    def recorded_as(samples: list[Sample]) -> bool:
        shown.append(samples)
        return True

    journal = Journal(path)
    recovery = journal.recover(mark, "s", recorded_as=recorded_as)
    journal.close()
    (samples,) = shown
    by_offset = {ref.offset: (str(number), ref.length) for number, ref in enumerate(refs)}
    assert SAMPLES - 2 <= len(samples) <= SAMPLES
    assert all((s.article_id, s.length) == by_offset[s.offset] for s in samples)  # each a whole line, in place
    assert samples[0].offset == 0 and samples[-1].offset == refs[-1].offset  # the first line and the last recorded
    assert recovery.count == 3 and recovery.segments[0].start == mark.offset
    assert any("holding the same" in note for note in recovery.notes)


def test_a_file_with_no_line_ending_at_the_mark_is_not_shown_and_is_read_whole(tmp_path: Path):
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    mark, _ = journal.append(_records(0, 5))
    journal.close()
    data = b"".join(json.dumps(record).encode() + b"\n" for record in _records(5, 9, padding=3))
    assert len(data) > mark.offset and data[mark.offset - 1] != ord("\n")
    replace_by_copy(path, data)
    journal = Journal(path)
    recovery = journal.recover(mark, "s", recorded_as=lambda samples: bool(samples))
    journal.close()
    assert recovery.count == 9 and any("no longer at" in note for note in recovery.notes)


def test_a_stretch_that_changed_after_it_was_found_is_refused_when_read_back(tmp_path: Path):
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.append(_records(0, 4))
    recovery = journal.recover(None, "s")
    os.truncate(path, path.stat().st_size - 10)  # cut behind the run's back
    with pytest.raises(JournalError, match="changed while it was read"):
        list(journal.lines(recovery, "s"))
    journal.close()


def _rotate(path: Path) -> None:
    """logrotate without copytruncate: <journal>.N → .N+1, the journal → .1."""
    rotated = sorted((int(p.name.rsplit(".", 1)[1]), p) for p in path.parent.glob(path.name + ".*"))
    for number, old in reversed(rotated):
        old.rename(path.with_name(f"{path.name}.{number + 1}"))
    path.rename(path.with_name(path.name + ".1"))


@pytest.mark.parametrize("marked_lines", [2, 0])
def test_a_journal_rotated_twice_since_its_mark_is_read_from_the_mark_through_every_newer_file(
    tmp_path: Path, marked_lines: int
):
    """A state that lost its last commits (its -wal) may hold a mark two rotations old, even a mark of an
    empty journal: the lines of the file rotated in between are unrecorded too, and must be read."""
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    mark = journal.append(_records(0, marked_lines))[0] if marked_lines else journal.mark()
    journal.append(_records(10, 1))  # past the mark
    journal.close()
    _rotate(path)
    journal = Journal(path)
    journal.append(_records(20, 3))  # the file rotated in between: all past the mark
    journal.close()
    _rotate(path)
    journal = Journal(path)
    journal.append(_records(30, 1))
    recovery = journal.recover(mark, "s")
    assert [segment.path.name for segment in recovery.segments] == ["j.jsonl.2", "j.jsonl.1", "j.jsonl"]
    assert [line["article_id"] for line, _ in journal.lines(recovery, "s")] == ["10", "20", "21", "22", "30"]
    journal.close()


def test_a_journal_marked_empty_and_rotated_empty_is_found_and_the_newer_files_read(tmp_path: Path):
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    mark = journal.mark()  # a run that exported nothing recorded the new, empty journal
    journal.close()
    _rotate(path)
    journal = Journal(path)
    journal.append(_records(0, 2))
    journal.close()
    _rotate(path)
    journal = Journal(path)
    recovery = journal.recover(mark, "s")
    assert recovery.count == 2 and [segment.path.name for segment in recovery.segments] == ["j.jsonl.1"]
    assert any("rotated again" in note for note in recovery.notes)
    journal.close()
