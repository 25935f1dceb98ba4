"""mkdocs hooks (mkdocs.yml `hooks:`): add the pages generated from the code.

Nothing generated is committed except what needs root to capture (the process trees,
the request traces and `make bench`'s numbers, in docs/generated/, which the request
and benchmarks pages, and the numbers other pages quote, are drawn from here):
sources, diffs, references and the workshop's pages are made here, at every build,
from the repository as it is.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page as MkPage

HERE = Path(__file__).resolve().parent
for entry in (str(HERE), str(HERE.parents[1])):  # sitegen, and the repo for shared/ stages/
    if entry not in sys.path:
        sys.path.insert(0, entry)

from sitegen import bench, diffs, reference, requests, sources, workshop  # noqa: E402 (the path must be set first)
from sitegen.common import SOURCE_DIR  # noqa: E402

# A warning here fails `mkdocs build --strict`, as a broken link would.
log = logging.getLogger("mkdocs.plugins.whalebones")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    generated = [*sources.pages(), *diffs.pages(), *reference.pages(), *workshop.pages(),
                 *requests.pages()]
    for page in generated:
        files.append(File.generated(config, page.uri, content=page.markdown))
    return files


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """The workshop's pages come from the exercise catalog: so does their nav."""
    for entry in config.nav or []:
        if isinstance(entry, dict) and "Workshop" in entry:
            entry["Workshop"] = workshop.nav()
    return config


def on_page_markdown(markdown: str, page: MkPage, config: MkDocsConfig, files: Files) -> str:
    # make bench's numbers, from docs/generated/bench.json (not in the source view,
    # which shows the placeholders as the code and its tests write them)
    if not page.file.src_uri.startswith(f"{SOURCE_DIR}/"):
        markdown = bench.expand(markdown,
                                warn=lambda m: log.warning(f"{page.file.src_uri}: {m}"))
    return sources.rewrite_links(markdown, page.file.src_uri, log.warning)


def on_page_content(html: str, page: MkPage, config: MkDocsConfig, files: Files) -> str:
    return diffs.expand(html)
