"""Inline SVG charts for the HTML report: no JavaScript, no CDN, text escaped.

Each function returns a ``markupsafe.Markup`` SVG string that scales with its container.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

INK, MUTED, ACCENT, BAD, GOOD = "#1f2933", "#7b8794", "#2f6fdf", "#c0392b", "#1e8e5a"


def _fmt(v: float) -> str:
    return f"{v:.1f}"


def bars(values: Sequence[float], labels: Sequence[str], *, title: str, height: int = 160,
         highlight_last: bool = True) -> Markup:
    """A bar chart (e.g. documents per period); the last bar highlighted."""
    w, h, pad = 640, height, 28
    n = max(len(values), 1)
    top = max(values, default=0) or 1
    bw = (w - 2 * pad) / n
    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title)}" class="chart">',
             f"<title>{escape(title)}</title>"]
    for i, (v, lab) in enumerate(zip(values, labels)):
        bh = (h - 2 * pad) * v / top
        x, y = pad + i * bw, h - pad - bh
        fill = ACCENT if (highlight_last and i == n - 1) else "#b7c9ea"
        parts.append(f'<rect x="{_fmt(x + 1)}" y="{_fmt(y)}" width="{_fmt(max(bw - 2, 1))}" '
                     f'height="{_fmt(bh)}" fill="{fill}"><title>{escape(lab)}: {v:g}</title></rect>')
    if labels:
        parts.append(f'<text x="{pad}" y="{h - 8}" font-size="11" fill="{MUTED}">{escape(labels[0])}</text>')
        parts.append(f'<text x="{w - pad}" y="{h - 8}" font-size="11" fill="{MUTED}" '
                     f'text-anchor="end">{escape(labels[-1])}</text>')
    parts.append(f'<text x="{pad}" y="14" font-size="11" fill="{MUTED}">max {top:g}</text></svg>')
    return Markup("".join(parts))


def line(values: Sequence[float | None], labels: Sequence[str], *, title: str, lo: float = -1.0,
         hi: float = 1.0, height: int = 140) -> Markup:
    """A line chart on a fixed [lo, hi] scale (e.g. mean sentiment per period); gaps for None."""
    w, h, pad = 640, height, 28
    n = max(len(values), 1)
    step = (w - 2 * pad) / max(n - 1, 1)

    def y(v: float) -> float:
        return h - pad - (h - 2 * pad) * (v - lo) / ((hi - lo) or 1)

    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title)}" class="chart">',
             f"<title>{escape(title)}</title>",
             (f'<line x1="{pad}" x2="{w - pad}" y1="{_fmt(y(0 if lo < 0 < hi else lo))}" '
              f'y2="{_fmt(y(0 if lo < 0 < hi else lo))}" stroke="#d9e2ec"/>')]
    seg: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            if len(seg) > 1:
                parts.append(f'<polyline fill="none" stroke="{ACCENT}" stroke-width="2" points="{" ".join(seg)}"/>')
            seg = []
            continue
        seg.append(f"{_fmt(pad + i * step)},{_fmt(y(v))}")
        parts.append(f'<circle cx="{_fmt(pad + i * step)}" cy="{_fmt(y(v))}" r="2.5" fill="{ACCENT}">'
                     f"<title>{escape(labels[i])}: {v:+.2f}</title></circle>")
    if len(seg) > 1:
        parts.append(f'<polyline fill="none" stroke="{ACCENT}" stroke-width="2" points="{" ".join(seg)}"/>')
    parts.append(f'<text x="{pad}" y="14" font-size="11" fill="{MUTED}">{hi:+g}</text>')
    parts.append(f'<text x="{pad}" y="{h - 8}" font-size="11" fill="{MUTED}">{lo:+g}</text></svg>')
    return Markup("".join(parts))


def spark(values: Sequence[float], *, title: str) -> Markup:
    """A small share-over-time sparkline for a topic row; the last point marked."""
    w, h = 120, 28
    top = max(values, default=0) or 1
    n = max(len(values), 1)
    pts = [(2 + (w - 4) * i / max(n - 1, 1), h - 3 - (h - 6) * v / top) for i, v in enumerate(values)]
    poly = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in pts)
    last = pts[-1] if pts else (0, 0)
    return Markup(f'<svg viewBox="0 0 {w} {h}" class="spark" role="img" aria-label="{escape(title)}">'
                  f"<title>{escape(title)}</title>"
                  f'<polyline fill="none" stroke="{ACCENT}" stroke-width="1.5" points="{poly}"/>'
                  f'<circle cx="{_fmt(last[0])}" cy="{_fmt(last[1])}" r="2.5" fill="{INK}"/></svg>')


def diverging(items: Sequence[tuple[str, float]], *, title: str) -> Markup:
    """Horizontal bars around zero (e.g. mean sentiment per topic or need)."""
    w, row, pad, mid = 640, 22, 6, 440
    h = pad * 2 + row * max(len(items), 1)
    parts = [f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title)}" class="chart">',
             f"<title>{escape(title)}</title>",
             f'<line x1="{mid}" x2="{mid}" y1="0" y2="{h}" stroke="#d9e2ec"/>']
    span = w - mid - 10
    for i, (lab, v) in enumerate(items):
        y = pad + i * row
        width = abs(v) * span
        x = mid if v >= 0 else mid - width
        short = lab if len(lab) <= 30 else lab[:29] + "…"
        parts.append(f'<text x="4" y="{y + 15}" font-size="12" fill="{INK}">{escape(short)}</text>')
        parts.append(f'<rect x="{_fmt(x)}" y="{y + 4}" width="{_fmt(max(width, 1))}" height="{row - 8}" '
                     f'fill="{GOOD if v >= 0 else BAD}"><title>{escape(lab)}: {v:+.2f}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))
