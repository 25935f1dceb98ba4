"""Go's time.Duration as text: how the docker CLI reads `--health-interval 1m30s`, and how
dockerd writes a duration into a message ("Health check exceeded timeout (1.5s)").

The API itself carries durations as integers of nanoseconds (Go's Duration is an int64);
text appears only at the edges, so both directions are here, written once.
"""

from __future__ import annotations

import re

NANOSECOND = 1
MICROSECOND = 1000
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

# time.ParseDuration's units
_UNITS = {"ns": NANOSECOND, "us": MICROSECOND, "µs": MICROSECOND, "μs": MICROSECOND,
          "ms": MILLISECOND, "s": SECOND, "m": MINUTE, "h": HOUR}
_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")


def parse(text: str) -> int:
    """time.ParseDuration: "300ms", "-1.5h", "2h45m" -> nanoseconds; ValueError (with
    Go's words) if it is none. A bare "0" is the one number that needs no unit."""
    orig = text
    sign = 1
    if text[:1] in ("-", "+"):
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise ValueError(f'time: invalid duration "{orig}"')
    total = 0
    pos = 0
    while pos < len(text):
        m = _PART.match(text, pos)
        if m is None and text[pos] not in "0123456789.":
            raise ValueError(f'time: invalid duration "{orig}"')
        if m is None or m.group(1) in ("", "."):
            if m is None and re.match(r"[0-9.]+\Z", text[pos:]):
                raise ValueError(f'time: missing unit in duration "{orig}"')
            if m is None:
                bad = re.match(r"[0-9.]*([^0-9.]*)", text[pos:])
                raise ValueError(f'time: unknown unit "{bad.group(1) if bad else ""}" '
                                 f'in duration "{orig}"')
            raise ValueError(f'time: invalid duration "{orig}"')
        whole, _, frac = m.group(1).partition(".")
        unit = _UNITS[m.group(2)]
        value = int(whole or 0) * unit
        if frac:
            value += int(frac) * unit // 10 ** len(frac)
        total += value
        pos = m.end()
    if total > 2**63 - 1:
        raise ValueError(f'time: invalid duration "{orig}"')
    return sign * total


def _fraction(value: int, scale: int) -> str:
    """value/scale with the fraction's trailing zeros cut, as Go's fmtFrac."""
    whole, frac = divmod(value, scale)
    if not frac:
        return str(whole)
    digits = str(frac).rjust(len(str(scale)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def format(ns: int) -> str:
    """Duration.String: 1500000000 -> "1.5s", 90 s -> "1m30s", 1 h -> "1h0m0s"."""
    if ns < 0:
        return "-" + format(-ns)
    if ns == 0:
        return "0s"
    if ns < MICROSECOND:
        return f"{ns}ns"
    if ns < MILLISECOND:
        return _fraction(ns, MICROSECOND) + "µs"
    if ns < SECOND:
        return _fraction(ns, MILLISECOND) + "ms"
    hours, rest = divmod(ns, HOUR)
    minutes, rest = divmod(rest, MINUTE)
    seconds = _fraction(rest, SECOND) + "s"
    if hours:
        return f"{hours}h{minutes}m{seconds}"
    if minutes:
        return f"{minutes}m{seconds}"
    return seconds
