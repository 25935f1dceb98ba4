"""What the generators share: the repository's root, pages, links between pages."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SOURCE_DIR = "source"  # generated source pages live under docs/source/ (virtually)


@dataclass
class Page:
    """A page mkdocs will render as if docs/<uri> existed, with this markdown."""

    uri: str
    markdown: str


def source_uri(path: str) -> str:
    """The page that shows the repository file `path` (e.g. shared/api/app.py)."""
    return f"{SOURCE_DIR}/{path}.md"


def link(from_uri: str, to_uri: str) -> str:
    """A relative link from one page to another, as mkdocs resolves them."""
    return posixpath.relpath(to_uri, posixpath.dirname(from_uri) or ".")


def fence(text: str) -> str:
    """A backtick fence longer than any run of backticks in `text`."""
    longest, run = 0, 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)
