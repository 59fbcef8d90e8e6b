"""Alerts for cron: significant topic rises and sentiment drops, posted once to a webhook.

The latest period is compared with the previous six months (the report's test, at the
chosen sensitivity). Each alert has a key (kind, topic, period) in the ``alerts`` table,
so a rerun never posts it twice; a failed post stays pending and is retried next run.

Example: ``alerts.alerts(db, config.load(), sensitivity="high", webhook="http://...")``
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import urllib.error
import urllib.request
from typing import Any

import sqlite_utils

from vocseg import store
from vocseg.config import Config
from vocseg.errors import Errors, UsageError

#: sensitivity -> (false-discovery rate, minimum documents in the latest period)
SENSITIVITY = {"low": (0.001, 20), "medium": (0.01, 10), "high": (0.05, 5)}
#: periods in six months
SIX_MONTHS = {"day": 182, "week": 26, "month": 6}


def find(db: sqlite_utils.Database, cfg: Config, sensitivity: str = "medium") -> list[dict[str, Any]]:
    """Alerts for the latest period (not yet deduplicated): rises, sentiment drops, new themes."""
    from vocseg.report import data

    if sensitivity not in SENSITIVITY:
        raise UsageError(Errors.E307.format(what="--sensitivity", value=sensitivity,
                                            reason="use low, medium or high"), code="E307")
    alpha, min_count = SENSITIVITY[sensitivity]
    period = cfg.report.period
    rcfg = dataclasses.replace(cfg.report, alpha=alpha, baseline_periods=SIX_MONTHS[period],
                               min_count=min(min_count, cfg.report.min_count))
    built = data.build(db, dataclasses.replace(cfg, report=rcfg), period=period)
    start, end = built["period"]["start"], built["period"]["end"]
    found = []
    for t in built["topics"]:
        base = {"topic_id": t["id"], "label": t["label"], "keywords": t["keywords"][:5],
                "period_start": start, "period_end": end, "period": period,
                "count": t["count"], "share": t["share"], "baseline_share": t["baseline_share"]}
        if t["direction"] in ("rising", "emerging") and t["count"] >= min_count:
            found.append({**base, "kind": "rise", "q_value": t["q_value"], "message":
                          f"Topic '{t['label']}' is {t['direction']}: {t['share']:.1%} of documents "
                          f"this {period} vs {t['baseline_share']:.1%} before (q={t['q_value']:.2g})."})
        sq = t["sentiment_q_value"]
        if sq is not None and sq < alpha and (t["sentiment_change"] or 0) < 0 and t["count"] >= min_count:
            found.append({**base, "kind": "sentiment_drop", "q_value": sq,
                          "sentiment": t["sentiment"], "sentiment_change": t["sentiment_change"],
                          "message": f"Sentiment about '{t['label']}' dropped by "
                                     f"{-t['sentiment_change']:.2f} to {t['sentiment']:+.2f} "
                                     f"this {period} (q={sq:.2g})."})
    for e in built["emerging"]:
        if e["size"] >= min_count:
            found.append({"kind": "emerging", "topic_id": None, "label": e["label"],
                          "keywords": e["keywords"][:5], "period_start": start, "period_end": end,
                          "period": period, "count": e["size"], "message":
                          f"New theme among unassigned documents: '{e['label']}' "
                          f"({e['size']} documents this {period})."})
    for a in found:
        ident = a["topic_id"] if a["topic_id"] is not None else hashlib.sha1(
            " ".join(sorted(a["keywords"])).encode()).hexdigest()[:12]
        a["key"] = f"{a['kind']}:{ident}:{period}:{start}"
    return found


def _body(alert: dict[str, Any], slack: bool) -> bytes:
    if slack:
        # Slack mrkdwn needs &, < and > escaped; the label comes from customer words
        text = alert["message"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return json.dumps({"text": f"vocseg: {text}"}).encode()
    return json.dumps({"source": "vocseg", **alert}, ensure_ascii=False).encode()


def post(url: str, body: bytes, *, retries: int = 3, timeout: float = 10.0, backoff: float = 0.5) -> None:
    """POST ``body`` as JSON; retry on network errors, 429 and 5xx; raise the last error."""
    last: Exception | None = None
    for attempt in range(retries):
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "User-Agent": "vocseg-alerts"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                resp.read()
            return
        except urllib.error.HTTPError as exc:
            last = exc
            if exc.code != 429 and exc.code < 500:
                break
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            last = exc
        if attempt < retries - 1:
            time.sleep(backoff * 2**attempt)
    raise last or RuntimeError("post failed")


def alerts(db: sqlite_utils.Database, cfg: Config, *, sensitivity: str = "medium",
           webhook: str | None = None, slack: bool = False, retries: int = 3) -> dict[str, Any]:
    """Record new alerts and post every unposted one to ``webhook`` (each at most once).

    Returns ``{"new": [...], "posted": n, "pending": n, "errors": [...]}``.
    """
    if webhook is not None and not webhook.startswith(("http://", "https://")):
        raise UsageError(Errors.E307.format(what="--webhook", value=webhook,
                                            reason="give an http:// or https:// URL"), code="E307")
    found = find(db, cfg, sensitivity)
    new = []
    with store.transaction(db):
        for a in found:
            cur = db.conn.execute(
                "INSERT OR IGNORE INTO alerts (key, kind, topic_id, period_start, period_end, payload, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [a["key"], a["kind"], a["topic_id"], a["period_start"], a["period_end"],
                 json.dumps(a, ensure_ascii=False), store.now()])
            if cur.rowcount:
                new.append(a)
    posted, errors = 0, []
    if webhook:
        todo = db.execute("SELECT id, payload FROM alerts WHERE status != 'posted' ORDER BY id").fetchall()
        for alert_id, payload in todo:
            try:
                post(webhook, _body(json.loads(payload), slack), retries=retries)
            except Exception as exc:  # noqa: BLE001 - recorded, retried next run
                reason = str(exc)[:300]
                errors.append(Errors.E310.format(url=webhook, attempts=retries, reason=reason))
                with store.transaction(db):
                    db.conn.execute("UPDATE alerts SET status = 'failed', attempts = attempts + ?, "
                                    "last_error = ? WHERE id = ?", [retries, reason, alert_id])
                continue
            with store.transaction(db):
                db.conn.execute("UPDATE alerts SET status = 'posted', attempts = attempts + 1, "
                                "posted_at = ?, last_error = NULL WHERE id = ?", [store.now(), alert_id])
            posted += 1
    pending = db.execute("SELECT COUNT(*) FROM alerts WHERE status != 'posted'").fetchone()[0]
    return {"new": new, "posted": posted, "pending": pending, "errors": errors}
