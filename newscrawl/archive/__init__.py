"""What the crawl keeps of the web besides articles: WARC captures of every response, and the article
images mirror (a content-addressed store)."""
