"""How a site's pages are read: the `Site` contract every site module fills in, its layouts, and the
generic fallbacks (JSON-LD, OpenGraph, `<time>`, main content) used where a site's markup gives nothing."""
