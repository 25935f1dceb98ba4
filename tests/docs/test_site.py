"""The docs site, as a reader sees it: built, served, opened in a headless Chromium.

The site is built once for this module, with `mkdocs build --strict`, into a temporary
directory (or taken from $WB_DOCS_SITE, a directory `make docs` filled), served on a
loopback port, and opened in Debian's chromium driven by Playwright (no browser is
downloaded). Checked: the home page, a stage page whose mermaid diagram has become an
SVG, a diff page with both views; no console error on any of them; no request leaves
the machine (the site must work in a room without internet); and, by crawling every
page, no internal link or asset that does not exist. On every page with a diagram, no
text collides (diagram_text.py); at a phone's 390 px, no page scrolls sideways
(a diagram scrolls in its own box instead, its text kept readable).
Screenshots go to $WB_ARTIFACTS/screenshots (default .artifacts/screenshots), for CI.

Run: `make test-docs` (installs chromium and the docs extra, builds, runs this).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

from tests.docs.diagram_text import text_problems

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("WB_CHROMIUM", "/usr/bin/chromium"))
MERMAID_JS = REPO / "docs" / "assets" / "vendor" / "mermaid.min.js"
ARTIFACTS = Path(os.environ.get("WB_ARTIFACTS", REPO / ".artifacts")) / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def missing() -> str | None:
    """Why this module cannot run here, or None."""
    try:
        import mkdocs  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        return f"the docs extra is not installed ({e.name}): make test-docs installs it"
    if not CHROMIUM.exists():
        return f"no {CHROMIUM}: make test-docs installs Debian's chromium (apt)"
    if not os.environ.get("WB_DOCS_SITE") and not MERMAID_JS.exists():
        return f"no {MERMAID_JS.relative_to(REPO)}: `make docs` fetches it first"
    return None


pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))


# --- the site, built and served -------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Iterator[Path]:
    given = os.environ.get("WB_DOCS_SITE")
    if given:
        yield Path(given)
        return
    out = Path(tempfile.mkdtemp(prefix="wb-docs-site-"))
    try:
        env = dict(os.environ, PYTHONPATH=str(REPO), NO_MKDOCS_2_WARNING="1")
        build = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                                "--site-dir", str(out)], cwd=REPO, env=env,
                               capture_output=True, text=True, timeout=600)
        assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stderr[-4000:]}"
        yield out
    finally:
        shutil.rmtree(out, ignore_errors=True)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- the browser ----------------------------------------------------------------------


class Browser:
    """One headless Chromium page that remembers what went wrong while it was used."""

    def __init__(self, page: object, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.errors: list[str] = []
        self.outside: list[str] = []

    def open(self, path: str, shot: str) -> object:
        self.errors.clear()
        page = self.page
        page.goto(urljoin(self.base_url, path), wait_until="networkidle")  # type: ignore[attr-defined]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        ignore = ARTIFACTS.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n")  # artifacts for CI to keep, never for git
        page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=False)  # type: ignore[attr-defined]
        return page


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = chromium.new_context(viewport={"width": 1400, "height": 900})
        # mkdocs-material draws each diagram into a *closed* shadow root, out of reach
        # of any query; open it for the test (the page itself does not change).
        context.add_init_script(
            "const attach = Element.prototype.attachShadow;"
            "Element.prototype.attachShadow = function (init) {"
            "  return attach.call(this, Object.assign({}, init, {mode: 'open'})); };")
        page = context.new_page()
        b = Browser(page, base_url)
        host = urlparse(base_url).netloc

        def route(r: object) -> None:
            url = r.request.url  # type: ignore[attr-defined]
            if urlparse(url).netloc == host or url.startswith(("data:", "blob:")):
                r.continue_()  # type: ignore[attr-defined]
            else:
                b.outside.append(url)
                r.abort()  # type: ignore[attr-defined]

        page.route("**/*", route)
        page.on("console", lambda m: b.errors.append(f"console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: b.errors.append(f"page error: {e}"))
        try:
            yield b
        finally:
            context.close()
            chromium.close()


def test_home_page(browser: Browser) -> None:
    page = browser.open("", "home")
    assert "Whalebones" in page.title()  # type: ignore[attr-defined]
    text = page.inner_text("article")  # type: ignore[attr-defined]
    for part in ("client", "daemon", "containerd", "runc", "shim", "kernel"):
        assert part in text, f"the home page does not name the {part}"
    assert "make stage-4 && ./run busybox sh" in text
    page.wait_for_selector("article div.mermaid svg", timeout=15000)  # type: ignore[attr-defined]
    assert browser.errors == []
    assert browser.outside == [], "the site reached outside the machine"


def test_a_stage_page_draws_its_diagram(browser: Browser) -> None:
    page = browser.open("stages/stage4/", "stage4")
    svg = page.wait_for_selector("article div.mermaid svg", timeout=15000)  # type: ignore[attr-defined]
    assert svg is not None and svg.bounding_box()["height"] > 50
    labels = svg.evaluate("e => e.textContent")  # inside the shadow root: not inner_text
    assert "whalebones-shim" in labels, "the diagram's text is not in its SVG"
    tree = page.inner_text("article")  # type: ignore[attr-defined]
    assert "container pid 1" in tree and "bin/whalebones-shim --namespace" in tree, \
        "no observed process tree"
    page.locator("article div.mermaid").first.screenshot(  # type: ignore[attr-defined]
        path=str(ARTIFACTS / "stage4-diagram.png"))
    assert browser.errors == []
    assert browser.outside == []


def test_a_diff_page_shows_both_views(browser: Browser) -> None:
    page = browser.open("diffs/stage3-stage4/", "diff-stage3-stage4")
    assert page.locator("table.wb-sbs").count() > 0  # type: ignore[attr-defined]
    assert page.locator("table.wb-sbs .wb-add").count() > 0  # type: ignore[attr-defined]
    # highlighted as code: pygments' token classes inside the diff
    assert page.locator("table.wb-sbs .k").count() > 0  # type: ignore[attr-defined]
    assert "task.py" in page.inner_text("article")  # type: ignore[attr-defined]
    # small diffs are folded; the executors' counterparts compared method by method
    assert page.locator("details.wb-folded:not([open])").count() > 0  # type: ignore[attr-defined]
    assert page.locator("h4#tasksservicecreate").count() == 1  # type: ignore[attr-defined]
    page.locator("label.wb-label-uni:visible").first.click()  # type: ignore[attr-defined]
    page.wait_for_selector("table.wb-uni", state="visible")  # type: ignore[attr-defined]
    page.screenshot(path=str(ARTIFACTS / "diff-unified.png"))  # type: ignore[attr-defined]
    assert browser.errors == []
    assert browser.outside == []


def test_a_diff_page_is_unified_on_a_narrow_screen(browser: Browser) -> None:
    page = browser.page
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    try:
        browser.open("diffs/stage1-stage2/", "diff-stage1-stage2-390")
        assert page.locator("table.wb-sbs:visible").count() == 0  # type: ignore[attr-defined]
        assert page.locator("table.wb-uni:visible").count() > 0  # type: ignore[attr-defined]
        page.locator("label.wb-label-sbs:visible").first.click()  # type: ignore[attr-defined]
        assert page.locator("table.wb-sbs:visible").count() == 1  # type: ignore[attr-defined]
        assert browser.errors == []
    finally:
        page.set_viewport_size({"width": 1400, "height": 900})  # type: ignore[attr-defined]


def test_the_request_page_draws_each_era_from_its_trace(browser: Browser) -> None:
    page = browser.open("stages/request/", "request")
    page.wait_for_selector("article div.mermaid svg", timeout=15000)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "document.querySelectorAll('article div.mermaid').length >= 4", timeout=15000)
    diagrams = page.locator("article div.mermaid svg")  # type: ignore[attr-defined]
    assert diagrams.count() >= 4, "one sequence diagram per stage"
    last = diagrams.nth(diagrams.count() - 1).evaluate("e => e.textContent")
    assert "shim" in last and "runc create" in last
    assert browser.errors == []
    assert browser.outside == []


# mermaid draws each diagram after the page has loaded, one by one
ALL_DRAWN = ("[...document.querySelectorAll('article div.mermaid')]"
             ".every(d => (d.shadowRoot || d).querySelector('svg'))")


def test_no_text_collides_in_a_diagram(site: Path, browser: Browser) -> None:
    """On every page with a diagram (mermaid's, or an inline SVG with text), no label
    lies on another or spills out of its node (tests/docs/diagram_text.py)."""
    pages = sorted(str(p.parent.relative_to(site)) for p in site.rglob("index.html")
                   if 'class="mermaid"' in (text := p.read_text(errors="replace"))
                   or "<text" in text)
    assert len(pages) >= 5, f"only {len(pages)} pages with a diagram: {pages}"
    problems: list[str] = []
    for path in pages:
        url = "" if path == "." else f"{path}/"
        page = browser.open(url, f"diagrams-{path.replace('/', '-')}")
        page.wait_for_function(ALL_DRAWN, timeout=15000)  # type: ignore[attr-defined]
        problems += [f"{url or 'home'}: {p}" for p in text_problems(page)]
    assert problems == [], "text collides in diagrams:\n" + "\n".join(problems)
    assert browser.errors == []


def test_a_phone_width_page_fits(browser: Browser) -> None:
    """At 390 px no page scrolls sideways (wide tables and code scroll in their own
    boxes), and the home page's timeline leaves its "what happened" column room."""
    page = browser.page
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    try:
        for path in ("", "start-here/", "stages/stage1/", "stages/stage2/", "stages/stage3/",
                     "stages/stage4/", "stages/request/"):
            browser.open(path, f"phone-{path.strip('/').replace('/', '-') or 'home'}")
            width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
            assert width <= 390, f"{path or 'home'} is {width} px wide on a 390 px screen"
        browser.open("", "phone-home")
        share = page.evaluate(  # type: ignore[attr-defined]
            "() => { const t = document.querySelector('.wb-timeline table');"
            " return t.rows[1].cells[1].offsetWidth / t.offsetWidth; }")
        assert share > 0.4, f"the timeline's 'what happened' is {share:.0%} of its table"
    finally:
        page.set_viewport_size({"width": 1400, "height": 900})  # type: ignore[attr-defined]
    assert browser.errors == []


def test_the_benchmarks_page_draws_a_bar_per_stage(browser: Browser) -> None:
    page = browser.open("benchmarks/", "benchmarks")
    bars = page.locator("article svg.wb-bench-bars")  # type: ignore[attr-defined]
    assert bars.count() == 1, "no stacked bars (docs/generated/bench.json has no profile?)"
    assert bars.locator("rect").count() > 10
    assert bars.first.bounding_box()["height"] > 100
    assert "stage4" in bars.first.evaluate("e => e.textContent")
    assert browser.errors == []
    assert browser.outside == []


# The smallest text of each diagram as drawn: its font size times the SVG's scale.
DIAGRAM_TEXT_PX = """() => [...document.querySelectorAll('article div.mermaid')].map(d => {
  const svg = d.shadowRoot.querySelector('svg');
  const sizes = [...svg.querySelectorAll('foreignObject span, text')]
    .map(t => parseFloat(getComputedStyle(t).fontSize)).filter(n => n > 0);
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return Math.min(...sizes) * scale; })"""


def test_a_phone_width_diagram_stays_readable(browser: Browser) -> None:
    """At 390 px a flowchart is not shrunk to the screen's width (it was, to 4 to 7 px
    text): it keeps room enough for 10 px text and scrolls sideways inside its own
    box, while the page itself stays 390 px wide (checked above)."""
    page = browser.page
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    try:
        for path in ("", "stages/stage1/", "stages/stage4/"):
            browser.open(path, f"phone-diagram-{path.strip('/').replace('/', '-') or 'home'}")
            page.wait_for_function(ALL_DRAWN, timeout=15000)  # type: ignore[attr-defined]
            first = page.evaluate(DIAGRAM_TEXT_PX)[0]  # type: ignore[attr-defined]
            assert first >= 10, f"{path or 'home'}: the first diagram's text is {first:.1f} px"
    finally:
        page.set_viewport_size({"width": 1400, "height": 900})  # type: ignore[attr-defined]
    assert browser.errors == []


# --- every link -----------------------------------------------------------------------


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and ((tag == "a" and name == "href") or name == "src"
                          or (tag == "link" and name == "href")):
                self.found.append(value)


def test_no_broken_internal_links(base_url: str) -> None:
    """Crawl from the home page; every internal href and src must answer 200."""
    host = urlparse(base_url).netloc
    seen: set[str] = set()
    todo = [base_url]
    broken: list[str] = []
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                kind = resp.headers.get_content_type()
                body = resp.read() if kind == "text/html" else b""
        except urllib.error.HTTPError as e:
            broken.append(f"{url}: {e.code}")
            continue
        parser = Links()
        parser.feed(body.decode(errors="replace"))
        for ref in parser.found:
            target, _ = urldefrag(urljoin(url, ref))
            if urlparse(target).netloc == host and target not in seen:
                todo.append(target)
    pages = [u for u in seen if u.endswith("/")]
    assert len(pages) > 20, f"the crawl found only {len(pages)} pages"
    assert broken == [], "broken internal links:\n" + "\n".join(sorted(broken))


class Prose(HTMLParser):
    """The text a reader sees, outside code, scripts and styles: where markdown that
    was not rendered would show as itself."""

    SKIPPED = {"pre", "code", "script", "style", "svg", "textarea"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.text.append(data)


# Markdown that reached the page as text: a table's rule row, an attribute list that
# did not attach, a fence that did not open, an admonition that did not render.
RAW_MARKDOWN = ("|---|", "| --- |", "{ .", "{: .", "```", "!!! ", "???+ ")


def test_no_page_shows_raw_markdown(site: Path) -> None:
    raw: list[str] = []
    for page in sorted(site.rglob("*.html")):
        prose = Prose()
        prose.feed(page.read_text(errors="replace"))
        text = "".join(prose.text)
        raw += [f"{page.relative_to(site)}: {mark!r}" for mark in RAW_MARKDOWN
                if mark in text]
    assert raw == [], "pages show markdown that was not rendered:\n" + "\n".join(raw)
