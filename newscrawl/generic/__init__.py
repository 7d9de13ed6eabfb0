"""Crawling a site without a module: its site made at run time from the listing URLs (`site`), its
article links and pagination inferred (`links`), a draft module written from what a crawl learned
(`draft`)."""
