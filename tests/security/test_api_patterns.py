"""A client's regular expression must not freeze the daemon (ReDoS).

`docker ps --filter name=PATTERN` sends a regexp; dockerd matches it with Go's RE2,
linear in the name. Python's `re` backtracks: `(a+)+$` against 30 a's and a dash
takes minutes. (Checked once against `re`: this test then fails on its time bound.)
"""

from __future__ import annotations

import json
import random
import time
import urllib.parse

from tests.behaviour.clients import Clients

EVIL = "(a+)+$"


def listed(clients: Clients, pattern: str) -> tuple[list[str], float]:
    query = urllib.parse.quote(json.dumps({"name": [pattern]}))
    start = time.monotonic()
    reply = clients.api("GET", f"/containers/json?all=1&filters={query}", timeout=60)
    took = time.monotonic() - start
    assert reply.status == 200, reply.body
    return [n.lstrip("/") for c in reply.json() for n in c["Names"]], took


def test_a_catastrophic_name_pattern_answers_at_once(clients: Clients) -> None:
    name = "a" * 40 + f"-{random.randrange(10**6):06d}"  # digits: no a after the dash
    clients.names.append(name)
    created = clients.api("POST", f"/containers/create?name={name}",
                          {"Image": "busybox", "Cmd": ["true"]})
    assert created.status == 201, created.body
    names, took = listed(clients, EVIL)
    assert took < 10, f"the name filter {EVIL!r} took {took:.1f} s"
    assert name not in names
    names, _ = listed(clients, r"^a+-\d+$")  # and the filter still is a regexp
    assert name in names
