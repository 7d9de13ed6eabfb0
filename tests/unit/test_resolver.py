"""The resolver's check of answers, as a table, and a real resolution of a name pointed inward."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO

from newscrawl.fetch.resolver import public_address


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
        ("not an address", False),
    ],
)
def test_public_address(address: str, public: bool):
    assert public_address(address) is public


RESOLVE = """
import sys
from twisted.internet import reactor
from newscrawl.fetch.resolver import PublicAddressesOnly
resolver = PublicAddressesOnly(reactor, 100, 5.0)
resolver.allow_local = sys.argv[1] == "local"
def done(result):
    print(getattr(result, "value", result))
    reactor.stop()
resolver.getHostByName("localhost").addBoth(done)
reactor.run()
"""


@pytest.mark.parametrize(
    "mode, printed",
    [("live", "localhost resolves to 127.0.0.1, not a public address: refused"), ("local", "127.0.0.1")],
)
def test_a_name_resolving_inward_is_refused_in_live_crawls(mode: str, printed: str):
    done = subprocess.run([sys.executable, "-c", RESOLVE, mode], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert printed in done.stdout, done.stdout + done.stderr
