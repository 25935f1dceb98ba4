"""Tables printed the way the docker CLI prints them (durations and sizes: shared/humanize.py)."""

from __future__ import annotations

import re


def table(header: list[str], rows: list[list[str]], min_width: int = 10) -> str:
    """Columns as Go's tabwriter makes them for docker (min width 10, or as given;
    padding 3); the last column is not padded."""
    widths = [
        max(min_width, max(len(row[col]) for row in [header, *rows]) + 3)
        for col in range(len(header))
    ]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        lines.append(("".join(cells) + row[-1]).rstrip())
    return "\n".join(lines) + "\n"


def ellipsis(text: str, width: int) -> str:
    """Shorten to `width` characters, the last one an ellipsis (docker's Ellipsis)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def short_id(image_or_container_id: str) -> str:
    """The 12 hex digits docker shows: `sha256:037895da5844...` -> `037895da5844`."""
    return image_or_container_id.removeprefix("sha256:")[:12]


def natural_key(text: str) -> list[int | str]:
    """Sort key putting `net9` before `net10` and `9/tcp` before `10/tcp`: docker's
    natural sort order (digit runs compare as numbers)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]
