"""The diagram text check (diagram_text.py) can fail: unit tests on FAKE pages, made by
hand here, whose labels collide on purpose, and one real mermaid drawing of the
diagram it caught on the site. They need Debian's chromium and Playwright (make
test-docs installs both), not the built site.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.diagram_text import text_problems

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("WB_CHROMIUM", "/usr/bin/chromium"))
MERMAID_JS = REPO / "docs" / "assets" / "vendor" / "mermaid.min.js"

try:
    import playwright.sync_api  # noqa: F401
    MISSING = None if CHROMIUM.exists() else f"no {CHROMIUM}: make test-docs installs it"
except ImportError:
    MISSING = "Playwright is not installed: make test-docs installs the docs extra"

pytestmark = pytest.mark.skipif(MISSING is not None, reason=str(MISSING))


@pytest.fixture(scope="module")
def page() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium.new_page(viewport={"width": 900, "height": 700})
        chromium.close()


def fake(page: object, svg: str) -> list[str]:
    """A FAKE page: one hand-made SVG in an article, as a diagram would sit on the site."""
    page.set_content(  # type: ignore[attr-defined]
        f"<html><body style='margin:0'><article>{svg}</article></body></html>")
    return text_problems(page)


def node(x: int, y: int, w: int, h: int, label: str) -> str:
    """A flowchart node as mermaid draws one: a rect, and an HTML label inside a
    foreignObject centred on it."""
    return (f"<g class='node' transform='translate({x},{y})'>"
            f"<rect x='0' y='0' width='{w}' height='{h}'/>"
            f"<g class='label'><foreignObject x='0' y='0' width='{w}' height='{h}'>"
            f"<div xmlns='http://www.w3.org/1999/xhtml' style='font:16px sans-serif;"
            f"white-space:nowrap'><span>{label}</span></div></foreignObject></g></g>")


def svg(body: str) -> str:
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='600' height='300' "
            f"style='fill:#eef'>{body}</svg>")


def test_fake_clean_diagram_passes(page: object) -> None:
    body = node(10, 10, 200, 40, "daemon") + node(10, 100, 200, 40, "containerd")
    body += "<text x='300' y='50' style='font:14px sans-serif'>gRPC</text>"
    assert fake(page, svg(body)) == []


def test_fake_overlapping_texts_fail(page: object) -> None:
    body = ("<text x='20' y='40' style='font:16px sans-serif'>stage 3: exec</text>"
            "<text x='60' y='46' style='font:16px sans-serif'>stage 4: starts</text>")
    problems = fake(page, svg(body))
    assert len(problems) == 1 and '"stage 3: exec" overlaps "stage 4: starts"' in problems[0]


def test_fake_label_wider_than_its_node_fails(page: object) -> None:
    problems = fake(page, svg(node(10, 10, 60, 40, "whalebones-shim (container A)")))
    assert any("spills out of its shape" in p for p in problems), problems
    assert any("wider than its label box" in p for p in problems), problems


def test_fake_label_on_another_node_fails(page: object) -> None:
    edge = ("<g class='edgeLabel'><text x='30' y='75' style='font:16px sans-serif'>"
            "re-parented child</text></g>")
    problems = fake(page, svg(node(10, 60, 200, 40, "container: pid 1") + edge))
    assert any('"re-parented child" lies on the shape of "container: pid 1"' in p
               for p in problems), problems


def test_fake_text_past_the_diagram_edge_fails(page: object) -> None:
    body = "<text x='540' y='40' style='font:16px sans-serif'>containerd announced</text>"
    assert any("runs past the diagram's edge" in p for p in fake(page, svg(body)))


@pytest.mark.skipif(not MERMAID_JS.exists(), reason="no vendored mermaid: make docs")
def test_a_real_mermaid_cluster_title_on_its_node_fails(page: object) -> None:
    """Stage 3's diagram as it was: mermaid wraps a cluster title longer than 200 px
    onto a second line but places the cluster's first node as if it had one; the
    title's second line lay on the node. (A real mermaid drawing, on a fake page.)"""
    page.set_content("<html><body><article><div class='mermaid'>\n"  # type: ignore[attr-defined]
                     "flowchart TD\n"
                     '  subgraph c["the containerd process (a child subreaper)"]\n'
                     '    server["containerd/server.py"] --> tasks["tasks.py"]\n'
                     "  end\n</div></article></body></html>")
    page.add_script_tag(path=str(MERMAID_JS))  # type: ignore[attr-defined]
    page.evaluate("() => mermaid.run({querySelector: 'div.mermaid'})")  # type: ignore[attr-defined]
    page.wait_for_selector("div.mermaid svg")  # type: ignore[attr-defined]
    problems = text_problems(page)
    assert any("lies on the shape of \"containerd/server.py\"" in p for p in problems), \
        problems
