"""What a run writes for readers: front-matter posts, Atom feeds, and the report page (JSONL is Scrapy's
own `jsonlines` feed, written through the journal in `newscrawl.state`)."""
