"""The download side: the scope rule at every request and redirect hop, the resolver that refuses
non-public addresses, and the download handler (live, or offline from the bundled site)."""
