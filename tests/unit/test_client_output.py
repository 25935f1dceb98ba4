"""How our CLI prints tables, durations and sizes: as the docker CLI (go-units)."""

from __future__ import annotations

from shared.client.commands.inspect import render
from shared.client.commands.ps import names, ports
from shared.client.tables import ellipsis, table
from shared.humanize import human_duration, human_size


def test_table_like_tabwriter() -> None:
    text = table(["CONTAINER ID", "NAMES"], [["abc", "web"]])
    assert text == "CONTAINER ID   NAMES\nabc            web\n"


def test_durations() -> None:
    assert human_duration(0.3) == "Less than a second"
    assert human_duration(1) == "1 second"
    assert human_duration(59) == "59 seconds"
    assert human_duration(61) == "About a minute"
    assert human_duration(60 * 59) == "59 minutes"
    assert human_duration(3600) == "About an hour"
    assert human_duration(3600 * 47) == "47 hours"
    assert human_duration(86400 * 13) == "13 days"
    assert human_duration(86400 * 20) == "2 weeks"
    assert human_duration(86400 * 400) == "13 months"
    assert human_duration(86400 * 800) == "2 years"


def test_sizes() -> None:
    assert human_size(999) == "999B"
    assert human_size(1_990_000) == "1.99MB"
    assert human_size(4_260_000) == "4.26MB"
    assert human_size(1_234_567_890) == "1.23GB"


def test_ellipsis() -> None:
    assert ellipsis("sh -c 'i=0; while true'", 20) == "sh -c 'i=0; while t…"
    assert ellipsis("short", 20) == "short"


def test_names_and_ports() -> None:
    assert names(["/web", "/app/web"]) == "web"
    assert ports([{"PrivatePort": 80, "PublicPort": 8080, "IP": "0.0.0.0", "Type": "tcp"},
                  {"PrivatePort": 443, "Type": "tcp"}]) == "443/tcp, 0.0.0.0:8080->80/tcp"
    # (docker ports that keep their number in runs first, then each host mapping)


def test_format_subset() -> None:
    obj = {"State": {"Status": "running", "Running": True}, "Config": {"Cmd": ["a", "b"]}}
    assert render("{{.State.Status}} {{.State.Running}}", obj) == "running true"
    assert render("{{json .Config.Cmd}}", obj) == '["a","b"]'
    assert render("{{.Config.Cmd}} {{.Nope}}", obj) == "[a b] <no value>"
