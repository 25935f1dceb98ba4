"""What a prune may be told to spare: the `filters` of /images/prune and /networks/prune.

A prune deletes. A filter it did not understand and silently dropped would delete what
the user meant to keep (`docker network prune --filter label=keep=no` removing every
unused network), so each prune names the filters it applies, and any other is moby's
400 "invalid filter 'NAME'" (filters.Args.Validate), before anything is deleted.

`label=K`/`label=K=V` keep only objects with that label (all given must match),
`label!=...` spares objects with it, and `until=T` prunes only what was created
before T: a Go duration ("24h", "1h30m") counted back from now, a Unix time
("1700000000", "1700000000.5") or an RFC 3339 date, as in moby's
api/types/time.GetTimestamp (daemon/prune.go, getUntilFromPruneFilters, matchLabels).
"""

from __future__ import annotations

import datetime
import re
import time
from dataclasses import dataclass

from shared.api.params import accepted_filters
from shared.errors import InvalidParameter

# Go's time.ParseDuration units, in seconds.
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0,
          "h": 3600.0}
_DURATION = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_UNIX = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@dataclass
class PruneFilters:
    filters: dict[str, list[str]]
    until: float | None  # Unix seconds; None: no limit

    def get(self, key: str, default: list[str]) -> list[str]:
        return self.filters.get(key, default)

    def spares(self, labels: dict[str, str], created: float) -> bool:
        """True if the filters keep an object with these labels, made at `created`."""
        if self.until is not None and created > self.until:
            return True
        if not has_labels(labels, self.filters.get("label", [])):
            return True
        negated = self.filters.get("label!", [])
        return bool(negated) and any(has_labels(labels, [v]) for v in negated)


def has_labels(labels: dict[str, str], wanted: list[str]) -> bool:
    """moby's filters.MatchKVList: every `K` or `K=V` of `wanted` is among `labels`."""
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


def parse_until(value: str, now: float) -> float:
    """moby's GetTimestamp then ParseTimestamps: the moment `value` names, in Unix seconds."""
    text = value.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    if body and _DURATION.sub("", body) == "" and not _UNIX.fullmatch(text):
        seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION.findall(body))
        return now - sign * seconds
    if _UNIX.fullmatch(text):
        return float(text)
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(
            f'failed to parse value as time or duration: "{value}"') from None
    if moment.tzinfo is None:  # moby reads a date without a zone in the daemon's local time
        return time.mktime(moment.timetuple()) + moment.microsecond / 1e6
    return moment.timestamp()


def prune_filters(accepted: set[str]) -> PruneFilters:
    """The request's filters, refused (400) if one is not in `accepted` or is malformed."""
    filters = accepted_filters(accepted)
    until = None
    if "until" in filters:
        if len(filters["until"]) > 1:
            raise InvalidParameter("more than one until filter specified")
        until = parse_until(filters["until"][0], time.time())
    return PruneFilters(filters, until)
