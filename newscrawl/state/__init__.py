"""The crawl's memory between runs: the state backends, the journal, and files written whole."""

from newscrawl.state.base import CrawlState, Export, Known, ListingPage, PendingArticle, StateUnusable
from newscrawl.state.journal import Journal, JournalError, JournalMark

__all__ = ["CrawlState", "Export", "Journal", "JournalError", "JournalMark", "Known", "ListingPage", "PendingArticle",
           "StateUnusable"]
