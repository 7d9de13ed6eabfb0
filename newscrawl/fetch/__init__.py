"""The download side: the scope rule at every request and redirect hop, the resolver that refuses
non-public addresses, the download handler (live, or offline from the bundled site), each host's own pace
(robots.txt delays, Retry-After), and blocks told apart from layout breaks."""
