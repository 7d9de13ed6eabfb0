"""For development and tests only: the loopback server of the bundled sites, and crash points for the
kill tests."""
