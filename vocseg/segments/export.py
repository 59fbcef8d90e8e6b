"""Cohort exports for CRMs: generic CSV/JSONL, HubSpot and Salesforce contact imports.

One row per customer, keyed by e-mail for the CRMs (customers without one are counted, not
exported). Only what the CRM needs: e-mail, first and last name, and vocseg's properties
(cohort, satisfaction, top need, last feedback date, RFM segment, a short generated reason).
Never review text. Every text cell that a spreadsheet would run as a formula is neutralised.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import sqlite_utils

from vocseg.errors import Errors, UsageError, VocsegError
from vocseg.segments.membership import members

FORMATS = ("csv", "jsonl", "hubspot", "salesforce")
#: HubSpot's fixed lifecycle stages (internal values accepted by the contacts import)
HUBSPOT_LIFECYCLE = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
#: Salesforce's Data Import Wizard takes at most 50,000 records per file
SALESFORCE_MAX_ROWS = 50_000

PROPS = ["cohort", "satisfaction", "top_need", "last_feedback_date", "rfm_segment", "reason"]
COLUMNS = {
    "csv": ["customer_id", "external_id", "email", "first_name", "last_name", *PROPS],
    "jsonl": ["customer_id", "external_id", "email", "first_name", "last_name", *PROPS],
    "hubspot": [
        "Email",
        "First Name",
        "Last Name",
        "Lifecycle Stage",
        "vocseg_cohort",
        "vocseg_satisfaction",
        "vocseg_top_need",
        "vocseg_last_feedback_date",
        "vocseg_rfm_segment",
        "vocseg_reason",
    ],
    "salesforce": [
        "FirstName",
        "LastName",
        "Email",
        "VocSeg_Cohort__c",
        "VocSeg_Satisfaction__c",
        "VocSeg_Top_Need__c",
        "VocSeg_Last_Feedback_Date__c",
        "VocSeg_RFM_Segment__c",
        "VocSeg_Reason__c",
    ],
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Prefix a text cell that starts like a formula with an apostrophe (OWASP CSV injection).

    Example: ``neutralise("=HYPERLINK(...)") == "'=HYPERLINK(...)"``; numbers pass unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def split_name(name: str | None) -> tuple[str, str]:
    parts = (name or "").split()
    if not parts:
        return "", ""
    return parts[0], " ".join(parts[1:])


def reason(row: dict[str, Any]) -> str:
    """A short, generated reason for the cohort: figures only, never the customer's words."""
    bits = []
    if row.get("satisfaction") is not None:
        bits.append(
            f"satisfaction {row['satisfaction']:.2f} over {row.get('n_feedback') or 0} feedback"
        )
    if row.get("top_need"):
        bits.append(f"top need: {row['top_need']}")
    if row.get("rfm_label"):
        bits.append(f"RFM: {row['rfm_label']}")
    if row.get("monetary") is not None and row.get("frequency"):
        bits.append(f"{int(row['frequency'])} purchase days, {row['monetary']:.0f} spent")
    return "; ".join(bits)


def rows(db: sqlite_utils.Database, cohort: str) -> list[dict[str, Any]]:
    """Export rows (plain dicts, ``PROPS`` plus identity fields) for the cohort's current members."""
    if db.conn.execute("SELECT 1 FROM segments WHERE name = ?", [cohort]).fetchone() is None:
        raise VocsegError(Errors.E403.format(name=cohort), code="E403")
    ids = members(db, cohort)
    labels = dict(db.conn.execute("SELECT name, label FROM segments WHERE kind = 'rfm'").fetchall())
    out = []
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        marks = ",".join("?" * len(chunk))
        for r in db.conn.execute(
            f"SELECT c.id, c.external_id, c.email, c.name, f.satisfaction, f.satisfaction_class, f.top_need, "
            f"f.last_feedback_at, f.rfm_segment, f.n_feedback, f.monetary, f.frequency, f.n_transactions "
            f"FROM customers c LEFT JOIN customer_features f ON f.customer_id = c.id WHERE c.id IN ({marks})",
            chunk,
        ):
            keys = (
                "customer_id",
                "external_id",
                "email",
                "name",
                "satisfaction",
                "satisfaction_class",
                "top_need",
                "last_feedback_at",
                "rfm_segment",
                "n_feedback",
                "monetary",
                "frequency",
                "n_transactions",
            )
            row = dict(zip(keys, r))
            first, last = split_name(row.pop("name"))
            row.update(
                first_name=first,
                last_name=last,
                cohort=cohort,
                last_feedback_date=(row.pop("last_feedback_at") or "")[:10] or None,
                rfm_label=labels.get(row["rfm_segment"]),
            )
            if row["satisfaction"] is not None:
                row["satisfaction"] = round(row["satisfaction"], 3)
            row["reason"] = reason(row)
            out.append(row)
    return sorted(out, key=lambda r: r["customer_id"])


def lifecycle(row: dict[str, Any]) -> str:
    """A HubSpot lifecycle stage from its fixed list: happy top buyers are evangelists, other
    buyers customers, people who never bought leads."""
    if not row.get("n_transactions"):
        stage = "lead"
    elif row.get("satisfaction_class") == "happy" and row.get("rfm_segment") in (
        "champions",
        "loyal",
    ):
        stage = "evangelist"
    else:
        stage = "customer"
    assert stage in HUBSPOT_LIFECYCLE
    return stage


def _record(fmt: str, row: dict[str, Any]) -> list[Any]:
    props = [
        row["cohort"],
        row["satisfaction"],
        row["top_need"],
        row["last_feedback_date"],
        row["rfm_segment"],
        row["reason"],
    ]
    if fmt == "hubspot":
        return [row["email"], row["first_name"], row["last_name"], lifecycle(row), *props]
    if fmt == "salesforce":  # LastName is required by Salesforce; "Unknown" is its own convention
        return [row["first_name"], row["last_name"] or "Unknown", row["email"], *props]
    return [
        row["customer_id"],
        row["external_id"],
        row["email"],
        row["first_name"],
        row["last_name"],
        *props,
    ]


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, max(len(items), 1), size):
        yield items[i : i + size]


def _write_atomic(
    path: Path, text_rows: Iterator[str] | list[list[Any]], *, csv_mode: bool, bom: bool
) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise VocsegError(
            Errors.E408.format(path=path, reason=exc.strerror or exc), code="E408"
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            if csv_mode:
                w = csv.writer(fh, lineterminator="\r\n")
                for r in text_rows:
                    w.writerow([neutralise(v) if v is not None else "" for v in r])
            else:
                for line in text_rows:
                    fh.write(line)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise VocsegError(
            Errors.E408.format(path=path, reason=exc.strerror or exc), code="E408"
        ) from None


def export(
    db: sqlite_utils.Database, cohort: str, *, fmt: str, out: str | Path, bom: bool = False
) -> dict[str, Any]:
    """Write the cohort's members to ``out`` in ``fmt`` (csv, jsonl, hubspot, salesforce).

    Salesforce files over 50,000 rows are split into ``NAME-001.csv``, ``NAME-002.csv`` ...
    ``bom`` writes UTF-8 with a byte-order mark so Excel opens accents right.

    Example: ``export(db, "unhappy-champions", fmt="hubspot", out="unhappy.csv")``
    """
    if fmt not in FORMATS:
        raise UsageError(Errors.E412.format(fmt=fmt, valid=", ".join(FORMATS)), code="E412")
    out = Path(out)
    if not out.parent.exists():
        raise VocsegError(
            Errors.E408.format(path=out, reason="its folder does not exist"), code="E408"
        )
    data = rows(db, cohort)
    skipped = 0
    if fmt in ("hubspot", "salesforce"):
        keep = [r for r in data if r["email"]]
        skipped, data = len(data) - len(keep), keep
    files = []
    if fmt == "jsonl":
        keys = COLUMNS["jsonl"]
        lines = [json.dumps({k: r[k] for k in keys}, ensure_ascii=False) + "\n" for r in data]
        _write_atomic(out, iter(lines), csv_mode=False, bom=False)
        files = [out]
    else:
        parts = list(_chunks(data, SALESFORCE_MAX_ROWS)) if fmt == "salesforce" else [data]
        for i, part in enumerate(parts, 1):
            path = (
                out
                if len(parts) == 1
                else out.with_name(f"{out.stem}-{i:03d}{out.suffix or '.csv'}")
            )
            _write_atomic(
                path, [COLUMNS[fmt]] + [_record(fmt, r) for r in part], csv_mode=True, bom=bom
            )
            files.append(path)
    return {
        "cohort": cohort,
        "format": fmt,
        "rows": len(data),
        "skipped_no_email": skipped,
        "files": [str(f) for f in files],
    }


def frame(db: sqlite_utils.Database, cohort: str) -> pd.DataFrame:
    """The generic export rows as a DataFrame (for notebooks)."""
    return pd.DataFrame(rows(db, cohort), columns=COLUMNS["csv"])
