"""The crawl's memory between runs: the state backends, the journal, and files written whole."""

from newscrawl.state.base import (
    CrawlState,
    Export,
    Exported,
    GoneArticle,
    Known,
    ListingPage,
    PendingArticle,
    StateError,
    StateUnusable,
)
from newscrawl.state.journal import Journal, JournalError, JournalMark, LineRef, Recovery, Sample, read_line

__all__ = [
    "CrawlState",
    "Export",
    "Exported",
    "GoneArticle",
    "Journal",
    "JournalError",
    "JournalMark",
    "Known",
    "LineRef",
    "ListingPage",
    "PendingArticle",
    "Recovery",
    "Sample",
    "StateError",
    "StateUnusable",
    "read_line",
]
