"""The crawl's memory between runs: the state backends (base, sqlite, redis), the journal, and files
written whole. Nothing is imported here, so that a module needing one of them (the WARC writer process
needs `files`) does not import the others and Scrapy with them."""
