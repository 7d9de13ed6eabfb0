"""newscrawl: a Scrapy crawler for tech-news sites, one schema for every site."""
