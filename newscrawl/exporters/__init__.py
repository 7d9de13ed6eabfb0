"""Exporters. JSONL is Scrapy's own `jsonlines` feed (FEEDS, `-O out.jsonl`); front-matter posts are here."""
