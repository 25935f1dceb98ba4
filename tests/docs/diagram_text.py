"""Text that collides in a drawn diagram: two labels on top of each other, or a label
that spills out of the box drawn around it.

mermaid lays a diagram out from text sizes it measures itself; a long edge label, a
timeline event of many words or a note wider than its actor's column can still land on
another label or run past its node's border, and nothing fails: the page just becomes
hard to read. Here the browser that drew the diagram is asked where each piece of text
really is (its glyphs' boxes, on screen) and where each node's shape is.

A *label* is one unit of text: an SVG <text> (its <tspan> lines together), or the HTML
inside a <foreignObject> (mermaid's flowchart labels). Two labels overlap when their
boxes share more than TOLERANCE pixels both ways. A label spills when it reaches past
its shape by more than TOLERANCE: the shape of the flowchart node, timeline event or
cluster it belongs to, or, for a sequence diagram's actor or note, the <rect> drawn
beside it; the <foreignObject> that clips it; and the <svg> itself.

`text_problems(page)` checks every diagram of an open page (mkdocs-material draws
mermaid into a shadow root: the test opens those, see test_site.py) and every inline
<svg> with text in the article; it returns what it found, one line each.
"""

from __future__ import annotations

TOLERANCE = 2  # pixels: anti-aliasing and rounding, not a collision a reader sees

FIND_PROBLEMS = r"""
(tolerance) => {
  const svgs = [];
  for (const host of document.querySelectorAll('article div.mermaid')) {
    const svg = (host.shadowRoot || host).querySelector('svg');
    if (svg) svgs.push(svg);
  }
  for (const svg of document.querySelectorAll('article svg')) {
    if (svg.querySelector('text, foreignObject') && !svg.parentElement.closest('svg'))
      svgs.push(svg);
  }
  const shown = (el) => {
    const s = getComputedStyle(el);
    return s.display !== 'none' && s.visibility !== 'hidden' && s.opacity !== '0';
  };
  const union = (rects) => {
    const real = rects.filter(r => r.width > 0 && r.height > 0);
    if (!real.length) return null;
    return {left: Math.min(...real.map(r => r.left)), top: Math.min(...real.map(r => r.top)),
            right: Math.max(...real.map(r => r.right)),
            bottom: Math.max(...real.map(r => r.bottom))};
  };
  // Where the glyphs are: for HTML, the text nodes' own boxes (a label's <div> may be
  // wider than its words); an SVG <text> is measured by the browser as its glyphs.
  const textBox = (el) => {
    if (el.tagName.toLowerCase() === 'text') return union([el.getBoundingClientRect()]);
    const rects = [];
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      if (!n.textContent.trim() || !shown(n.parentElement)) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      rects.push(...range.getClientRects());
    }
    return union(rects);
  };
  // The boxes drawn around text: a flowchart node, a timeline event, a cluster, a
  // sequence diagram's actor or note (a <rect> beside its <text>). A label belongs to
  // the box of its group; every other box but a cluster's (clusters hold nodes) must
  // stay clear of it.
  const SHAPES = 'rect, polygon, path, circle, ellipse';
  const GROUPS = '.node, .timeline-node, .cluster';
  const boxOf = (group) => {
    const own = [...group.querySelectorAll(SHAPES)]
      .filter(s => !s.closest('.label, .cluster-label, foreignObject, text, marker'))
      // a cluster's own rect, not the nodes inside it
      .filter(s => !group.classList.contains('cluster') || s.parentElement === group);
    return union(own.map(s => s.getBoundingClientRect()));
  };
  const ownerOf = (label) => {
    const group = label.closest(GROUPS);
    if (group) return group;
    const parent = label.parentElement;
    return label.tagName.toLowerCase() === 'text' && parent.querySelector(':scope > rect')
      ? parent : null;
  };
  const boxesIn = (svg) => {
    const owners = new Set([...svg.querySelectorAll(GROUPS)]);
    for (const rect of svg.querySelectorAll('rect')) {
      if (!rect.closest(GROUPS) && rect.parentElement.querySelector(':scope > text'))
        owners.add(rect.parentElement);
    }
    const boxes = new Map();
    for (const owner of owners) {
      const box = owner.matches(GROUPS) ? boxOf(owner) : union(
        [...owner.querySelectorAll(':scope > rect')].map(r => r.getBoundingClientRect()));
      if (box) boxes.set(owner, box);
    }
    return boxes;
  };
  const outside = (inner, outer) =>
    inner.left < outer.left - tolerance || inner.top < outer.top - tolerance ||
    inner.right > outer.right + tolerance || inner.bottom > outer.bottom + tolerance;
  // how much two boxes share, as 'WxH px', when both ways exceed the tolerance
  const overlap = (a, b) => {
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return w > tolerance && h > tolerance ? `${Math.round(w)}x${Math.round(h)} px` : null;
  };
  const name = (l) => JSON.stringify(l.text.length > 40 ? l.text.slice(0, 40) + '…' : l.text);
  const problems = [];
  svgs.forEach((svg, index) => {
    const where = `diagram ${index + 1} (${svg.getAttribute('aria-roledescription') || 'svg'})`;
    const labels = [];
    for (const el of svg.querySelectorAll('foreignObject, text')) {
      if (el.tagName.toLowerCase() === 'text' && el.closest('foreignObject')) continue;
      if (!shown(el) || !el.textContent.trim()) continue;
      const box = textBox(el);
      if (box) labels.push({el, box, text: el.textContent.trim().replace(/\s+/g, ' ')});
    }
    const frame = svg.getBoundingClientRect();
    const boxes = boxesIn(svg);
    for (const l of labels) {
      if (outside(l.box, frame)) problems.push(`${where}: ${name(l)} runs past the diagram's edge`);
      if (l.el.tagName.toLowerCase() === 'foreignobject' &&
          outside(l.box, l.el.getBoundingClientRect()))
        problems.push(`${where}: ${name(l)} is wider than its label box (cut off)`);
      const owner = ownerOf(l.el);
      for (const [other, box] of boxes) {
        if (other === owner) {
          if (outside(l.box, box)) problems.push(`${where}: ${name(l)} spills out of its shape`);
        } else if (!other.classList.contains('cluster') && overlap(l.box, box)) {
          const what = JSON.stringify(other.textContent.trim().replace(/\s+/g, ' ').slice(0, 40));
          problems.push(`${where}: ${name(l)} lies on the shape of ${what}`);
        }
      }
    }
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        const both = overlap(labels[i].box, labels[j].box);
        if (both)
          problems.push(`${where}: ${name(labels[i])} overlaps ${name(labels[j])} (${both})`);
      }
    }
  });
  return problems;
}
"""


def text_problems(page: object) -> list[str]:
    """What collides in the diagrams of the page open in `page` (a Playwright Page)."""
    found: list[str] = page.evaluate(FIND_PROBLEMS, TOLERANCE)  # type: ignore[attr-defined]
    return found
