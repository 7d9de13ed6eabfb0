"""Scrapy settings for newscrawl. Every NEWSCRAWL_* setting is listed in the README; all can be
overridden with `-s NAME=VALUE` or in a scrapyd/cron job's settings."""

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["newscrawl.spiders"]
NEWSPIDER_MODULE = "newscrawl.spiders"
COMMANDS_MODULE = "newscrawl.commands"

# Politeness for real sites: obey robots.txt, adapt the pace to the server, say who we are.
USER_AGENT = "Mozilla/5.0 (compatible; newscrawl/0.1; tech-news tag crawler)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2

# Scrapy 2.19 otherwise opens a code-execution port on every crawl when aiohttp is importable.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

# Routes downloads to the bundled site when NEWSCRAWL_OFFLINE_ROOT is set (see newscrawl/offline.py).
DOWNLOAD_HANDLERS = {
    "http": "newscrawl.offline.LoopbackDownloadHandler",
    "https": "newscrawl.offline.LoopbackDownloadHandler",
}

ITEM_PIPELINES = {
    "newscrawl.pipelines.NormalizePipeline": 100,
    "newscrawl.pipelines.SchemaPipeline": 200,
    "newscrawl.pipelines.FrontMatterPipeline": 800,
}
EXTENSIONS = {"newscrawl.extensions.StatsFile": 500}
LOG_FORMATTER = "newscrawl.logformatter.NewscrawlLogFormatter"

# JSONL goes through Scrapy's FEEDS: `-O out.jsonl` / `-o out.jsonl` work as usual. Without any feed
# on the command line or in FEEDS, the spider adds NEWSCRAWL_JSONL (see SiteSpider.update_settings).
FEED_EXPORT_ENCODING = "utf-8"

# newscrawl's own settings.
NEWSCRAWL_JSONL = "output/%(name)s.jsonl"  # default feed, appended run after run; empty: none
NEWSCRAWL_MAX_PAGES = 20  # listing pages followed per tag (guards against endless pagination)
NEWSCRAWL_POSTS_DIR = "output/posts"  # front-matter posts go to <dir>/<site>/; empty: no posts
NEWSCRAWL_POST_FILENAME = "{article_id}.md"  # fields: {site} {article_id} {title} (made file-safe)
NEWSCRAWL_FRONTMATTER_DATES = "utc"  # "utc": true instant; "archive": site wall time labelled GMT
NEWSCRAWL_PLACEHOLDER_IMAGE = None  # headimg/thumbnail for posts without an image; None: omit them
NEWSCRAWL_OFFLINE_ROOT = None  # e.g. http://127.0.0.1:8765 to crawl the bundled site offline
NEWSCRAWL_STATS_FILE = None  # write the run's stats as JSON here when the crawl ends
