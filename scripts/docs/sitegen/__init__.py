"""Pages of the docs site generated from the repository at build time.

sources    one page per file of code, highlighted, with line anchors (the "source" view
           every other page links into, so links work offline and without GitHub)
diffs      what changed between neighbouring stages: files added, moved, changed, reused
reference  the Engine API routes, the CLI, the gRPC API, the runtime CLI
bench      make bench's numbers, into any page that quotes them

Each module's `pages()` returns `Page`s; scripts/docs/hooks.py hands them to mkdocs.
"""
