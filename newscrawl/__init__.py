"""newscrawl: a Scrapy crawler for tech-news sites, one schema for every site.

Packages by concern, from the top of the import order down: `commands` (the CLI); `spiders`
(crawling and the walk policy), `pipelines`; `archive` (WARC capture, images), `run` (progress,
summary, monitors), `exporters` (posts, feeds, report); `state` (memory between runs, the journal,
files), `extract` (page to Article), `fetch` (scope, resolver, download handler); `sites` (one module
per site); `parsing` (the site contract, layouts, fallbacks); `normalize` (pure normalisers); `dev`
(dev server, crash points). Beside them: `items` (the schema), `exit_codes`, `paths`, `addon`,
`settings`. docs/architecture.md has the map.
"""
