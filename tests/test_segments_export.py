"""Cohort exports (CSV, JSONL, HubSpot, Salesforce) and webhook pushes against a local server."""

from __future__ import annotations

import csv
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import segments_data as sd

from vocseg import config, segments
from vocseg.errors import VocsegError
from vocseg.segments import export, push

HOSTILE = ['=HYPERLINK("http://evil","x")', "+1+2", "-2+3", "@SUM(A1)", "\tTab", "\rCR"]


@pytest.fixture
def store_with_cohort(db):
    sd.world(db, n=60)
    # hostile names and needs: they must reach the CRM file as text, never as formulas
    ids = [r[0] for r in db.conn.execute("SELECT id FROM customers ORDER BY id LIMIT 6")]
    for cid, bad in zip(ids, HOSTILE):
        db.conn.execute("UPDATE customers SET name = ? WHERE id = ?", [f"{bad} Smith", cid])
        sd.add_review(
            db, cid, "=cmd|' /C calc'!A0 awful", dt.date(2025, 6, 1), satisfaction=0.0, need=bad
        )
        for k in range(6):
            sd.add_review(
                db, cid, f"still awful {k}", dt.date(2025, 6, 2 + k), satisfaction=0.0, need=bad
            )
    db.conn.execute("UPDATE customers SET email = NULL WHERE id = ?", [ids[-1] + 1])
    segments.segment(db, config.SegmentsConfig(prior_weight=0.0))
    return db


def _read(path, bom=False):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == bom
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def test_neutralise():
    for bad in HOSTILE:
        assert export.neutralise(bad) == "'" + bad
    assert export.neutralise("Jane") == "Jane"
    assert export.neutralise(-0.5) == -0.5  # numbers are not formulas


def test_csv_export_neutralises_formulas(store_with_cohort, tmp_path):
    db = store_with_cohort
    out = tmp_path / "unhappy.csv"
    result = export.export(db, "unhappy", fmt="csv", out=out)
    rows = _read(out)
    assert rows[0] == export.COLUMNS["csv"] and len(rows) - 1 == result["rows"]
    cells = [c for r in rows[1:] for c in r]
    assert not any(c.startswith(export.FORMULA_START) for c in cells)
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    assert any(c.startswith("'@SUM") for c in cells)
    # no review text leaves the store
    assert not any("calc" in c or "awful" in c for c in cells)


def test_hubspot_columns_and_lifecycle(store_with_cohort, tmp_path):
    db = store_with_cohort
    out = tmp_path / "hubspot.csv"
    result = export.export(db, "unhappy", fmt="hubspot", out=out, bom=True)
    rows = _read(out, bom=True)
    assert rows[0][:4] == ["Email", "First Name", "Last Name", "Lifecycle Stage"]
    assert rows[0][4:] == [
        "vocseg_cohort",
        "vocseg_satisfaction",
        "vocseg_top_need",
        "vocseg_last_feedback_date",
        "vocseg_rfm_segment",
        "vocseg_reason",
    ]
    body = rows[1:]
    assert len(body) == result["rows"] and result["skipped_no_email"] >= 0
    assert all(r[0] and "@" in r[0] for r in body)  # keyed by e-mail
    assert {r[3] for r in body} <= set(export.HUBSPOT_LIFECYCLE)
    assert all(r[4] == "unhappy" for r in body)


def test_salesforce_columns_and_split(store_with_cohort, tmp_path, monkeypatch):
    db = store_with_cohort
    out = tmp_path / "sf.csv"
    export.export(db, "unhappy", fmt="salesforce", out=out)
    rows = _read(out)
    assert rows[0] == [
        "FirstName",
        "LastName",
        "Email",
        "VocSeg_Cohort__c",
        "VocSeg_Satisfaction__c",
        "VocSeg_Top_Need__c",
        "VocSeg_Last_Feedback_Date__c",
        "VocSeg_RFM_Segment__c",
        "VocSeg_Reason__c",
    ]
    assert all(r[1] for r in rows[1:])  # LastName is required by Salesforce
    n = len(rows) - 1
    monkeypatch.setattr(export, "SALESFORCE_MAX_ROWS", 7)  # the limit, not our code, is shrunk
    result = export.export(db, "unhappy", fmt="salesforce", out=out)
    parts = sorted(tmp_path.glob("sf-*.csv"))
    assert [p.name for p in parts][:2] == ["sf-001.csv", "sf-002.csv"]
    assert len(parts) == -(-n // 7) == len(result["files"])
    sizes = [len(_read(p)) - 1 for p in parts]
    assert sum(sizes) == n and max(sizes) == 7
    assert all(_read(p)[0][0] == "FirstName" for p in parts)


def test_jsonl_export_and_unknown_cohort(store_with_cohort, tmp_path):
    db = store_with_cohort
    out = tmp_path / "happy.jsonl"
    result = export.export(db, "happy", fmt="jsonl", out=out)
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == result["rows"] == len(segments.members(db, "happy"))
    assert set(lines[0]) == set(export.COLUMNS["jsonl"])
    with pytest.raises(VocsegError, match="E403"):
        export.export(db, "no-such-cohort", fmt="csv", out=out)


class _Receiver:
    """A CRM webhook on 127.0.0.1 that fails on purpose: some requests get a 503 before they are
    applied, some are applied and then answered 500 (the client cannot tell), one hangs past the
    client's timeout. It applies each idempotency key once, as a real receiver should."""

    def __init__(self, plan):
        self.plan = list(plan)  # per request: "ok", "503", "500-after", "slow", "400"
        self.requests, self.keys, self.members, self.left = 0, set(), [], []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                assert self.headers["Idempotency-Key"] == body["idempotency_key"]
                outer.requests += 1
                action = outer.plan.pop(0) if outer.plan else "ok"
                if action == "slow":
                    threading.Event().wait(1.5)
                if action in ("503", "400"):
                    self.send_response(int(action))
                    self.end_headers()
                    self.wfile.write(b'{"error": "nope"}')
                    return
                if body["idempotency_key"] not in outer.keys:
                    outer.keys.add(body["idempotency_key"])
                    outer.members += [m["email"] or m["external_id"] for m in body["joined"]]
                    outer.left += [m["email"] or m["external_id"] for m in body["left"]]
                self.send_response(500 if action == "500-after" else 200)
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook?token=secret"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _cfg(**kw):
    return config.SegmentsConfig(push_batch_size=4, push_backoff=0.01, push_timeout=0.5, **kw)


def test_push_with_injected_failures_delivers_everyone_exactly_once(store_with_cohort):
    db = store_with_cohort
    expected = sorted(r["email"] or r["external_id"] for r in export.rows(db, "unhappy"))
    assert len(expected) > 8
    rx = _Receiver(["503", "ok", "500-after", "ok", "slow", "ok", "503", "503", "ok"])
    waits = []
    try:
        result = push.push(db, "unhappy", rx.url, _cfg(), sleep=waits.append)
        assert sorted(rx.members) == expected  # nothing lost, nothing twice
        assert result["joined"] == len(expected) and result["requests"] > result["batches"]
        assert waits[:2] == [0.01, 0.01] and 0.02 in waits  # backoff doubles on repeated failure
        # the next push has nothing to send
        again = push.push(db, "unhappy", rx.url, _cfg(), sleep=waits.append)
        assert again["joined"] == again["left"] == again["batches"] == 0
        # one member becomes happy: the next push sends only that leaver
        leaver = segments.members(db, "unhappy")[0]
        for k in range(8):
            sd.add_review(
                db,
                leaver,
                f"Fixed, thank you {k}!",
                dt.date(2025, 6, 30),
                satisfaction=1.0,
                need=None,
            )
        segments.segment(db, config.SegmentsConfig(prior_weight=0.0))
        third = push.push(db, "unhappy", rx.url, _cfg(), sleep=waits.append)
        assert (third["joined"], third["left"]) == (0, 1) and len(rx.left) == 1
    finally:
        rx.close()
    # the token in the URL is not stored
    assert not db.conn.execute(
        "SELECT 1 FROM cohort_sync_log WHERE target LIKE '%secret%'"
    ).fetchone()


def test_push_never_retries_4xx_and_gives_up_after_retries(store_with_cohort):
    db = store_with_cohort
    rx = _Receiver(["ok", "400"])
    try:
        with pytest.raises(VocsegError, match=r"E405.*HTTP 400.*4 members sent before it"):
            push.push(db, "unhappy", rx.url, _cfg(), sleep=lambda s: None)
        assert rx.requests == 2  # the 400 was not retried
        rx.plan = ["503"] * 5
        with pytest.raises(VocsegError, match=r"E406.*after 5 tries \(HTTP 503\)"):
            push.push(db, "unhappy", rx.url, _cfg(), sleep=lambda s: None)
        # the first batch was recorded, so the resumed push sends only the rest
        rx.plan = []
        rest = push.push(db, "unhappy", rx.url, _cfg(), sleep=lambda s: None)
        assert rest["joined"] == len(segments.members(db, "unhappy")) - 4
        assert sorted(rx.members) == sorted(
            r["email"] or r["external_id"] for r in export.rows(db, "unhappy")
        )
    finally:
        rx.close()
    with pytest.raises(VocsegError, match="E411"):
        push.push(db, "unhappy", "file:///etc/passwd", _cfg())


def test_cli_cohorts_export_and_list(store_with_cohort, cli, tmp_path):
    code, out, err = cli("cohorts", "list", "--json")
    assert code == 0, err
    names = {c["name"]: c["size"] for c in json.loads(out)}
    assert {"happy", "unhappy"} <= set(names) and names["unhappy"] > 0
    assert any(n.startswith("unhappy-") for n in names)
    code, out, err = cli(
        "cohorts", "export", "unhappy", "--format", "hubspot", "--out", tmp_path / "x.csv", "--json"
    )
    assert code == 0, err and json.loads(out)["rows"] > 0
    code, out, err = cli(
        "cohorts", "export", "unhappy", "--format", "excel", "--out", tmp_path / "x.csv"
    )
    assert code == 2 and "E412" in err
