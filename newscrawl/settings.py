"""Scrapy settings for newscrawl. Every NEWSCRAWL_* setting is listed in docs/operations.md; all can be
overridden with `-s NAME=VALUE` or in a scrapyd/cron job's settings."""

import os
from pathlib import Path

BOT_NAME = "newscrawl"
SPIDER_MODULES = ["newscrawl.spiders"]
NEWSPIDER_MODULE = "newscrawl.spiders"
COMMANDS_MODULE = "newscrawl.commands"

# Politeness for real sites: obey robots.txt, adapt the pace to the server, say who we are.
USER_AGENT = "Mozilla/5.0 (compatible; newscrawl/0.1; tech-news tag crawler)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Scrapy starts CONCURRENT_ITEMS tasks for every response's output (100 by default). An article page
# yields one item and a listing page only requests: 4 does the same work for a fraction of the cost
# (benchmarks/bench.py, docs/performance.md).
CONCURRENT_ITEMS = 4
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 2
# A news page is well under 1 MiB; refuse 8 MiB or more (also after decompression: gzip bombs).
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

# Scrapy 2.19 otherwise opens a code-execution port on every crawl when aiohttp is importable.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

# The log a person reads (at INFO: the crawl command's default level): newscrawl's start and progress
# lines (newscrawl/run/progress.py) in place of Scrapy's once-a-minute LogStats, and the stats dump at
# DEBUG only (they are in the summary file).
STATS_DUMP = False
LOG_VERSIONS: list[str] = []  # Scrapy's dict of library versions at every start: `scrapy version -v` has it

# Routes downloads to the bundled site when NEWSCRAWL_OFFLINE_ROOT is set (see newscrawl/fetch/handler.py).
# A live crawl's host names must resolve to public addresses (newscrawl/fetch/resolver.py).
TWISTED_DNS_RESOLVER = "newscrawl.fetch.resolver.PublicAddressesOnly"

# Every other scheme's handler is off: a page must not make the crawler read files or other protocols.
DOWNLOAD_HANDLERS = {
    "http": "newscrawl.fetch.handler.LoopbackDownloadHandler",
    "https": "newscrawl.fetch.handler.LoopbackDownloadHandler",
    "file": None,
    "data": None,
    "ftp": None,
    "s3": None,
}

# Checks settings, makes `-o`/`-O` runs one-off, switches on scrapy-redis (newscrawl/addon.py).
ADDONS = {"newscrawl.addon.Newscrawl": 0}

DOWNLOADER_MIDDLEWARES = {
    "newscrawl.fetch.scope.ScopeGuard": 10,  # every request and redirect hop: the site's hosts only
    # Off unless NEWSCRAWL_IMAGES_STORE: the site's image hosts pass the offsite filter (50), and image
    # requests send their article as Referer.
    "newscrawl.archive.images.ImageRequests": 40,
    "newscrawl.state.claims.DownloadClaims": 50,  # distributed only: claims follow requests to the downloader
    "newscrawl.fetch.blocks.BlockDetector": 540,  # after the retries: a block or a challenge page stays pending
    "newscrawl.fetch.politeness.Politeness": 555,  # robots.txt delays; Retry-After, before RetryMiddleware (550)
    "newscrawl.fetch.scope.SafeRedirectMiddleware": 650,  # closer to the downloader than RedirectMiddleware (600)
    # closest to the downloader: responses as received (off unless NEWSCRAWL_WARC_DIR)
    "newscrawl.archive.capture.WarcCapture": 950,
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,  # no spider here logs in
}
# Scrapy's depth tracking (the walk keeps its own depth) and its check of copied request meta (a
# developer's warning) run for every response and request: off (docs/performance.md).
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}

ITEM_PIPELINES = {
    # spidermon's, compiled: JSON Schema, drops invalid items
    "newscrawl.pipelines.validation.ItemValidationPipeline": 200,
    # off unless NEWSCRAWL_IMAGES_STORE: image files, before revisions are numbered
    "newscrawl.archive.images.ImageMirror": 300,
    # off with NEWSCRAWL_STORIES empty: each article's story (near-duplicates across sites and runs)
    "newscrawl.stories.pipeline.StoryPipeline": 650,
    "newscrawl.pipelines.export.RevisionPipeline": 700,
    "newscrawl.pipelines.export.FrontMatterPipeline": 800,
    "newscrawl.pipelines.export.JournalPipeline": 900,
}
EXTENSIONS = {
    "newscrawl.state.component.Incremental": 100,  # the crawl state; closes first, after counting what is pending
    "newscrawl.extract.process.ParseProcess": 110,  # off unless NEWSCRAWL_PARSE_PROCESS (and the asyncio reactor)
    "newscrawl.exporters.feeds.Feeds": 120,  # written when the state closes (its state_closing signal)
    "newscrawl.run.progress.Progress": 130,
    "scrapy.extensions.logstats.LogStats": None,
    "spidermon.contrib.scrapy.extensions.Spidermon": 500,
    "newscrawl.run.summary.RunSummary": 900,  # after spidermon: the summary carries the alarm
}
LOG_FORMATTER = "newscrawl.run.logformatter.NewscrawlLogFormatter"
# Scrapy's memory stats without the per-access deprecation shim (newscrawl/run/stats.py).
STATS_CLASS = "newscrawl.run.stats.MemoryStats"
# Scrapy checks generator callbacks for `return value` on every response, and its cache misses for
# bound methods: it re-reads and re-parses the callback's source each time (docs/performance.md).
# tests/test_crawl.py runs the same check on newscrawl's callbacks once instead.
WARN_ON_GENERATOR_RETURN_VALUE = False

# Scheduled runs write the crash-safe JSONL journal (NEWSCRAWL_JSONL) and keep the crawl state
# (NEWSCRAWL_STATE). `-O out.jsonl` / `-o out.jsonl` (Scrapy's FEEDS) make a one-off export instead:
# no journal, no state, no posts, no summary unless set on the command line (newscrawl/addon.py).
FEED_EXPORT_ENCODING = "utf-8"

# The layout-break alarm (newscrawl/run/monitors.py), on spidermon.
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ("newscrawl.run.monitors.LayoutAlarmSuite",)
SPIDERMON_VALIDATION_SCHEMAS = [str(Path(__file__).with_name("article.schema.json"))]
SPIDERMON_VALIDATION_DROP_ITEMS_WITH_ERRORS = True
SPIDERMON_MAX_ITEM_VALIDATION_ERRORS = 0
SPIDERMON_ADD_FIELD_COVERAGE = True
SPIDERMON_FIELD_COVERAGE_SKIP_IF_NO_ITEM = True  # an incremental run with nothing new is not an alarm
SPIDERMON_FIELD_COVERAGE_SKIP_NONE = True  # a null field is a missing one

# newscrawl's own settings.
NEWSCRAWL_JSONL = "output/%(name)s.jsonl"  # the journal: one line per new article or update, crash-safe
NEWSCRAWL_STATE = "output/%(name)s.state.sqlite"  # what earlier runs exported; empty: every run starts afresh
# The story index (newscrawl.stories): auto = stories.sqlite beside the crawl state (or the crawl's Redis);
# a path; empty: no stories
NEWSCRAWL_STORIES = "auto"
NEWSCRAWL_STATE_BUSY_TIMEOUT = 60  # seconds a state write waits for another process's lock on the file
NEWSCRAWL_REFRESH_AFTER = 0  # seconds after which a known article is fetched again (0: never; or -a refresh=1)
NEWSCRAWL_MAX_PAGES = 20  # listing pages per tag per run (≥ 1); the next run goes on where it stopped
NEWSCRAWL_MAX_LINKS_PER_PAGE = 500  # article links taken from one listing page (counted when hit)
NEWSCRAWL_POSTS_DIR = "output/posts"  # front-matter posts go to <dir>/<site>/; empty: no posts
NEWSCRAWL_POST_FILENAME = "{article_id}.md"  # fields: {site} {article_id} (required) {title} (made file-safe)
# `date:` in posts. "utc": the true instant; "local": the site's wall time, no zone (for Hexo sites whose
# `timezone` is the site's zone); "archive": as the archive wrote it (docs/hexo.md)
NEWSCRAWL_FRONTMATTER_DATES = "utc"
# Atom feeds rebuilt from the state after each run (newscrawl/exporters/feeds.py): <dir>/<site>/<tag>.xml for each
# tag the run walked, <dir>/<site>.xml for the site; empty: no feeds
NEWSCRAWL_FEEDS_DIR = "output/feeds"
NEWSCRAWL_FEED_ITEMS = 50  # entries per feed, the latest by publication time
# where feed readers fetch stored images when posts show them (an absolute http(s) URL; empty: the
# posts' NEWSCRAWL_POST_IMAGES_URL when absolute, else the sites' URLs)
NEWSCRAWL_FEED_IMAGES_URL = ""
NEWSCRAWL_FEED_STORIES = False  # a site's feeds show each story once (its first entry links the others)
# WARC capture of every response received (newscrawl/archive/capture.py, docs/warc.md); empty: off
NEWSCRAWL_WARC_DIR = ""
NEWSCRAWL_WARC_MAX_SIZE = 1_000_000_000  # bytes after which a capture file is finished and a new one begun
# Image mirroring (newscrawl/archive/images.py, docs/images.md): every article image file downloaded into this
# folder, named by its SHA-256; empty: off (posts and JSONL point at the sites' CDNs)
NEWSCRAWL_IMAGES_STORE = ""
NEWSCRAWL_IMAGES_MAX_SIZE = 20 * 1024 * 1024  # bytes: a larger image is refused, also while it downloads
NEWSCRAWL_IMAGES_MAX_PIXELS = (
    50_000_000  # declared width × height above which an image is refused (a decompression bomb)
)
# Image CDNs redirect (http → https, moved files): followed, and a file that ends on another host refused.
IMAGEMIRROR_MEDIA_ALLOW_REDIRECTS = True
# Check and write image files in a process of their own (newscrawl/archive/image_store.py), not on the crawl
# process' threads, which take the GIL from its reactor at every system call; with the asyncio reactor only.
NEWSCRAWL_IMAGES_STORE_PROCESS = True
# Fetch image files with the crawl's HTTP client straight, beside the downloader, where no middleware or
# pacing setting would change them (newscrawl/fetch/lean.py); off by itself with AutoThrottle or a delay.
NEWSCRAWL_IMAGES_LEAN_FETCH = True
NEWSCRAWL_IMAGES_RETRY_DAYS = 7  # later runs try a file that failed for a reason that may pass, for this long
# Image URLs in posts: "original" (the sites' URLs) or "local" (stored files under NEWSCRAWL_POST_IMAGES_URL)
NEWSCRAWL_POST_IMAGES = "original"
NEWSCRAWL_POST_IMAGES_URL = "/images/"  # where the blog serves the store (a Hexo site: source/images/ is /images/)
NEWSCRAWL_PLACEHOLDER_IMAGE = None  # headimg/thumbnail for posts without an image; None: omit them
# Stage posts (write and fsync them before the journal's commit renames them) in a process of their own
# (newscrawl/state/stager.py), a batch at a time, not on the crawl's post writer thread.
NEWSCRAWL_POSTS_STAGE_PROCESS = True
# Make Articles in a child process (newscrawl/extract/process.py), on another core: the crawl's one
# reactor thread is what bounds its speed. On by default where this process may use a second CPU.
NEWSCRAWL_PARSE_PROCESS = (
    len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
) > 1
# K crawl processes on this machine over one crawl state, each fetching its share of the articles
# (newscrawl/run/processes.py). The launcher gives each process the settings after it.
NEWSCRAWL_PROCESSES = 1
NEWSCRAWL_PROCESS_SHARE = None  # "i/K": this process' share (newscrawl/shares.py)
NEWSCRAWL_STATE_LOCK_FD = None  # the state lock's descriptor this process inherited from its launcher
NEWSCRAWL_WAIT_FD = None  # processes 2…K: where they wait for process 1 to have read them
NEWSCRAWL_REDIS_URL = None  # e.g. redis://host:6379/0: distributed crawl on scrapy-redis (docs/distributed.md)
NEWSCRAWL_WORKER = None  # this worker's stable name (default: the host name); names its journal
NEWSCRAWL_REDIS_IDLE_TIMEOUT = 15  # seconds a distributed worker waits on an empty queue before exiting
NEWSCRAWL_REDIS_CLAIM_TTL = 600  # seconds after which another worker may take over an article claim
NEWSCRAWL_COVERAGE_RULES: dict = {}  # {site: {field: share}} over the site module's expected_coverage
NEWSCRAWL_ALARM_MAX_DROP_RATE = 0.2  # share of article pages dropped for missing parts that raises the alarm
# How unlikely a field's shortfall (or the drops) must be, for the run's number of articles, to be a layout break.
NEWSCRAWL_ALARM_SIGNIFICANCE = 0.01
# An article failing (5xx, timeouts, resets) in this many runs in a row is given up: gone, `failing_<reason>`
# (0: never).
NEWSCRAWL_GIVE_UP_AFTER_RUNS = 10
# The longest Retry-After (seconds) a run waits for (newscrawl.fetch.politeness); a host asking for more
# is left until the next run.
NEWSCRAWL_RETRY_AFTER_MAX = 120
# Seconds after which a gone article (404/410, refused, unusable, given up) is fetched again when a listing
# shows it (0: only with -a retry_gone=1).
NEWSCRAWL_RETRY_GONE_AFTER = 7 * 86400
# True: also without Scrapy's Referer header, URL length limit, proxy from the environment (http_proxy)
# and <meta> refresh redirects, which these sites' pages do not need: less work per request
# (docs/performance.md, "Less framework per request").
NEWSCRAWL_LEAN_MIDDLEWARES = False
# The HTTP client under newscrawl.fetch.handler's handler: Scrapy's Twisted HTTP/1.1 one, or its aiohttp one
# ("scrapy.core.downloader.handlers._aiohttp.AiohttpDownloadHandler": faster here, and marked
# experimental by Scrapy 2.19; docs/performance.md).
NEWSCRAWL_HTTP_HANDLER = "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler"
NEWSCRAWL_OFFLINE_ROOT = None  # e.g. http://127.0.0.1:8765 to crawl the bundled site offline
NEWSCRAWL_SUMMARY_FILE = "output/%(name)s.summary.json"  # the run's summary (and all stats) as JSON; empty: none
NEWSCRAWL_RUNS_FILE = "output/%(name)s.runs.jsonl"  # one summary line per run, for `scrapy report`; empty: none
NEWSCRAWL_PROGRESS_INTERVAL = 10  # seconds between progress lines in the log; 0: none
