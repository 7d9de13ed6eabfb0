"""One fetched page to one Article: decode, the site module, the fallbacks, the normalisers; optionally in
a child process (`ParseProcess`). Shared by the crawl, `scrapy extract`, `scrapy reparse` and the tests."""
