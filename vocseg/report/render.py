"""Render report data (``data.build``) as self-contained HTML, Markdown or JSON.

HTML: Jinja2 with autoescape on, inline CSS and SVG, a Content-Security-Policy that
forbids every script and remote load, so a customer's ``<script>`` can only ever show
as text. Markdown: customer text has Markdown and HTML metacharacters escaped.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jinja2
from markupsafe import Markup

from vocseg.report import plots

FORMATS = ("html", "md", "json")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def md_escape(text: Any) -> str:
    """Text safe inside Markdown (and any HTML a Markdown viewer lets through), on one line."""
    s = " ".join(str(text).split())
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s)


def _pct(v: float | None, signed: bool = False) -> str:
    if v is None:
        return "–"
    return f"{v * 100:+.1f} pts" if signed else f"{v * 100:.1f}%"


def _num(v: float | None, fmt: str = "+.2f") -> str:
    return "–" if v is None else format(v, fmt)


def _q(v: float | None) -> str:
    if v is None:
        return "not tested"
    return "<0.0001" if v < 1e-4 else f"{v:.4f}"


def _env(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("vocseg.report", "templates"),
        autoescape=autoescape, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(pct=_pct, num=_num, q=_q, md=md_escape)
    return env


def _charts(report: dict[str, Any], top: int) -> dict[str, Markup]:
    trend = report["trend"]
    labels = [t["period"] for t in trend]
    charts = {
        "volume": plots.bars([t["documents"] for t in trend], labels, title="Documents per period"),
        "sentiment": plots.line([t["sentiment"] for t in trend], labels, title="Mean sentiment per period"),
    }
    with_s = [(f"#{t['id']} {t['label']}", t["sentiment"]) for t in report["topics"][:top]
              if t["sentiment"] is not None]
    if with_s:
        charts["topic_sentiment"] = plots.diverging(with_s, title="Mean sentiment by topic, latest period")
    need_s = [(n["need"], n["sentiment"]) for n in report["needs"] if n["sentiment"] is not None]
    if need_s:
        charts["need_sentiment"] = plots.diverging(need_s, title="Mean sentiment by need, latest period")
    for t in report["topics"][:top]:
        charts[f"spark{t['id']}"] = plots.spark([p["share"] or 0 for p in t["trend"]],
                                                title=f"Share of documents per period: {t['label']}")
    return charts


def html(report: dict[str, Any], *, top: int = 15) -> str:
    """One self-contained HTML page (inline CSS and SVG, no script, no remote resource)."""
    return _env(True).get_template("report.html.j2").render(
        r=report, charts=_charts(report, top), top=top)


def markdown(report: dict[str, Any], *, top: int = 15) -> str:
    """Markdown for pasting into a chat or ticket; customer text escaped."""
    return _env(False).get_template("report.md.j2").render(r=report, top=top).rstrip("\n") + "\n"


def as_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2, default=str) + "\n"


def render(report: dict[str, Any], fmt: str, *, top: int = 15) -> str:
    """The report in ``fmt`` (html, md or json)."""
    if fmt == "html":
        return html(report, top=top)
    if fmt == "md":
        return markdown(report, top=top)
    return as_json(report)
