"""Push a cohort to a webhook: JSON batches of joiners and leavers, each with an idempotency key.

The sync log (``cohort_sync_log``) records every member a target has acknowledged, so the next
push sends only who joined or left since. A batch's key is a hash of its target, cohort and
content, so a batch resent after a crash or a retry carries the same key and a receiver that
keeps keys applies it once. 5xx answers, timeouts and dropped connections are retried with
exponential backoff; 4xx answers are not (the request itself is wrong) and stop the push.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import sqlite_utils

from vocseg import __version__, store
from vocseg.config import SegmentsConfig
from vocseg.errors import Errors, UsageError, VocsegError
from vocseg.segments.export import rows
from vocseg.segments.membership import now_us

Progress = Callable[[int, int | None], None]


def synced(db: sqlite_utils.Database, target: str, cohort: str) -> set[int]:
    """Customers the target has as members of the cohort, per the sync log."""
    sql = (
        "SELECT customer_id, action FROM cohort_sync_log WHERE id IN (SELECT max(id) FROM "
        "cohort_sync_log WHERE target = ? AND cohort = ? GROUP BY customer_id)"
    )
    return {c for c, a in db.conn.execute(sql, [target, cohort]) if a == "join"}


def _key(target: str, cohort: str, joined: list[int], left: list[int]) -> str:
    body = (
        f"{target}|{cohort}|"
        + ",".join(f"j{i}" for i in joined)
        + "|"
        + ",".join(f"l{i}" for i in left)
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _member(row: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "external_id",
        "email",
        "first_name",
        "last_name",
        "satisfaction",
        "top_need",
        "last_feedback_date",
        "rfm_segment",
        "reason",
    )
    return {k: row[k] for k in keys}


def _post(url: str, payload: bytes, key: str, timeout: float) -> tuple[int, str]:
    req = urllib.request.Request(
        url,
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "User-Agent": f"vocseg/{__version__}",
        },
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read(2000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(300).decode("utf-8", "replace") if exc.fp else ""


def _send(
    url: str,
    payload: bytes,
    key: str,
    cfg: SegmentsConfig,
    *,
    batch: int,
    sent: int,
    sleep: Callable[[float], None],
) -> int:
    """POST one batch until it is accepted; returns the number of tries."""
    reason = ""
    for attempt in range(1, max(cfg.push_retries, 1) + 1):
        try:
            status, body = _post(url, payload, key, cfg.push_timeout)
        except TimeoutError as exc:
            reason = f"timeout: {exc}"
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            reason = f"connection: {getattr(exc, 'reason', exc)}"
        else:
            if 200 <= status < 300:
                return attempt
            if 400 <= status < 500:
                raise VocsegError(
                    Errors.E405.format(
                        url=url,
                        batch=batch,
                        status=status,
                        body=" ".join(body.split())[:200],
                        sent=sent,
                    ),
                    code="E405",
                )
            reason = f"HTTP {status}"
        if attempt < cfg.push_retries:
            sleep(cfg.push_backoff * 2 ** (attempt - 1))
    raise VocsegError(
        Errors.E406.format(url=url, batch=batch, tries=cfg.push_retries, reason=reason, sent=sent),
        code="E406",
    )


def push(
    db: sqlite_utils.Database,
    cohort: str,
    url: str,
    cfg: SegmentsConfig,
    *,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Send the cohort's joiners and leavers since the last push to ``url``.

    Each POST body: ``{"cohort", "batch", "batches", "idempotency_key", "joined": [...],
    "left": [...]}`` (members as e-mail, external id, name and vocseg's properties; leavers as
    e-mail and external id), with the key also in the ``Idempotency-Key`` header.

    Example: ``push(db, "unhappy-champions", "https://crm.example/hooks/vocseg", cfg.segments)``
    """
    if urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
        raise UsageError(Errors.E411.format(url=url), code="E411")
    parts = urlparse(url)
    # the sync log keys on the endpoint without credentials or query (tokens stay out of the store)
    target = f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}{parts.path}"
    current = {r["customer_id"]: r for r in rows(db, cohort)}
    have = synced(db, target, cohort)
    joined = sorted(set(current) - have)
    left = sorted(have - set(current))
    gone = {}
    if left:
        marks = ",".join("?" * len(left))
        gone = {
            c: {"external_id": e, "email": m}
            for c, e, m in db.conn.execute(
                f"SELECT id, external_id, email FROM customers WHERE id IN ({marks})", left
            )
        }
    work = [("join", c) for c in joined] + [("leave", c) for c in left]
    size = max(cfg.push_batch_size, 1)
    batches = [work[i : i + size] for i in range(0, len(work), size)]
    sent = tries = 0
    with store.run(db, "cohorts push", {"cohort": cohort, "target": target}) as counts:
        for n, batch in enumerate(batches, 1):
            j = [c for a, c in batch if a == "join"]
            lv = [c for a, c in batch if a == "leave"]
            key = _key(target, cohort, j, lv)
            payload = json.dumps(
                {
                    "cohort": cohort,
                    "batch": n,
                    "batches": len(batches),
                    "idempotency_key": key,
                    "joined": [_member(current[c]) for c in j],
                    "left": [gone.get(c, {"external_id": None, "email": None}) for c in lv],
                },
                ensure_ascii=False,
                default=str,
            ).encode("utf-8")
            tries += _send(url, payload, key, cfg, batch=n, sent=sent, sleep=sleep)
            at = now_us()
            with store.transaction(db):
                db.conn.executemany(
                    "INSERT INTO cohort_sync_log (target, cohort, customer_id, action, batch_key, synced_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(target, cohort, c, a, key, at) for a, c in batch],
                )
            sent += len(batch)
            if progress:
                progress(len(batch), len(work))
        counts.update(joined=len(joined), left=len(left), batches=len(batches), requests=tries)
    return {
        "cohort": cohort,
        "target": target,
        "joined": len(joined),
        "left": len(left),
        "batches": len(batches),
        "requests": tries,
        "members": len(current),
    }
