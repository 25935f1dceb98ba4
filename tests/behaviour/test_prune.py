"""Prunes delete only what their filters allow, and refuse a filter they cannot apply.

A prune that dropped a filter it did not know would delete what the user meant to keep,
so an unknown filter is moby's 400 "invalid filter 'NAME'" before anything goes. Every
network made here carries a label of this test's own, and every prune is limited to it:
nothing else of the engine's is touched.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote


def ok(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    return result.stdout


def networks(clients) -> set[str]:  # type: ignore[no-untyped-def]
    return set(ok(clients.docker("network", "ls", "--format", "{{.Name}}")).split())


def test_network_prune_keeps_what_its_filters_spare(clients) -> None:
    run = uuid.uuid4().hex[:8]
    mine = f"wb-prune={run}"
    gone, kept, other = f"wbprune-{run}-a", f"wbprune-{run}-b", f"wbprune-{run}-c"
    ok(clients.docker("network", "create", "--label", mine, gone))
    ok(clients.docker("network", "create", "--label", mine, "--label", "keep=yes", kept))
    ok(clients.docker("network", "create", other))  # not labelled: out of the prune
    try:
        result = ok(clients.docker("network", "prune", "--force", "--filter", f"label={mine}",
                                   "--filter", "label!=keep"))
        assert gone in result and kept not in result
        assert {kept, other} <= networks(clients) and gone not in networks(clients)
        # until: only what was made before the moment; these were made just now
        ok(clients.docker("network", "prune", "--force", "--filter", f"label={mine}",
                          "--filter", "until=1h"))
        assert kept in networks(clients)
    finally:
        for name in (gone, kept, other):
            clients.docker("network", "rm", name)


def test_prunes_refuse_a_filter_they_cannot_apply(clients) -> None:
    before = networks(clients)
    for path in ["/networks/prune", "/images/prune"]:
        reply = clients.api("POST", f"{path}?filters=" + quote(json.dumps({"nosuch": ["x"]})))
        # (20.10 spells it "Invalid filter"; Docker 23+ "invalid filter")
        assert reply.status == 400, path
        assert reply.message.lower() == "invalid filter 'nosuch'", path
        reply = clients.api("POST", f"{path}?filters=" + quote(json.dumps({"until": ["soon"]})))
        # (20.10 answers 500; Docker 23+ 400, errdefs.InvalidParameter)
        assert reply.status in (400, 500), path
        assert reply.message == 'failed to parse value as time or duration: "soon"', path
    assert networks(clients) == before
