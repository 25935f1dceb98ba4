"""Screenshots of the docs site at a desktop and a phone width, for review.

The built site (site/, from `make docs`) is served on a loopback port and opened in
Debian's chromium (Playwright drives it, as in tests/docs/test_site.py); each page is
shot once its diagrams are drawn, at 1280 and 390 CSS pixels wide, into
docs/dev/screenshots/ (not part of the site; committed, so a review can cite them).

    make docs-screenshots                  the first screen of each page
    python scripts/docs/screenshots.py --full-page --out /tmp/shots   whole pages
"""

from __future__ import annotations

import argparse
import functools
import http.server
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PAGES = {"home": "", "stage4": "stages/stage4/"}
WIDTHS = {1280: 800, 390: 844}  # width: height of the first screen (a laptop, a phone)
# mkdocs-material draws each diagram into a closed shadow root; opened here so that the
# script can see when the drawing is done (the page looks the same)
OPEN_SHADOWS = ("const attach = Element.prototype.attachShadow;"
                "Element.prototype.attachShadow = function (init) {"
                "  return attach.call(this, Object.assign({}, init, {mode: 'open'})); };")
ALL_DRAWN = ("[...document.querySelectorAll('article div.mermaid')]"
             ".every(d => (d.shadowRoot || d).querySelector('svg'))")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def shoot(site: Path, out: Path, full_page: bool) -> list[Path]:
    from playwright.sync_api import sync_playwright

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    out.mkdir(parents=True, exist_ok=True)
    made = []
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path="/usr/bin/chromium",
                                         args=["--no-sandbox", "--disable-gpu"])
            for width, height in WIDTHS.items():
                page = chromium.new_page(viewport={"width": width, "height": height})
                page.add_init_script(OPEN_SHADOWS)
                for name, path in PAGES.items():
                    page.goto(base + path, wait_until="networkidle")
                    page.wait_for_function(ALL_DRAWN, timeout=15000)
                    shot = out / f"{name}-{width}.png"
                    page.screenshot(path=str(shot), full_page=full_page)
                    made.append(shot)
                page.close()
            chromium.close()
    finally:
        server.shutdown()
        server.server_close()
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO / "site")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "dev" / "screenshots")
    parser.add_argument("--full-page", action="store_true")
    args = parser.parse_args()
    if not (args.site / "index.html").exists():
        raise SystemExit(f"no site in {args.site}: run make docs first")
    for shot in shoot(args.site, args.out, args.full_page):
        print(f"{shot} ({shot.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
