"""The report on the demo corpus: planted surge found, JSON schema, escaping, Chromium render,
alerts posted once, documents exported.

The demo corpus (scale 0.2, about 1,700 documents: at 0.1 the planted surge is too few
documents for q < 0.01 after correcting for ~20 topics) is generated, ingested, enriched and given
topics once per module through the report's own update step.
"""

from __future__ import annotations

import csv
import http.server
import json
import re
import shutil
import subprocess
import threading
import typing
from collections import Counter
from pathlib import Path

import pytest

from vocseg import config, demo_corpus, report, store, topics
from vocseg.report import data, render

pytestmark = [pytest.mark.models, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = "<script>alert('pwned')</script><img src=x onerror=alert(1)> & \"quotes\""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(store path, demo folder) with every stage up to date."""
    out = tmp_path_factory.mktemp("demo")
    db = store.open(out / "vocseg.db")
    cfg = config.Config()
    demo_corpus.run_demo(db, out, cfg, scale=0.2, stages=False)
    done = report.bring_up_to_date(db, cfg)
    assert done["topics"]["documents"] > 500
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return out / "vocseg.db", out


def _copy(path: Path, dst: Path) -> Path:
    shutil.copy(path, dst / path.name)
    shutil.copytree(path.with_name(path.name + ".topics"), dst / (path.name + ".topics"))
    return dst / path.name


def _themes(db, out: Path) -> dict[int, str]:
    """Topic id -> the planted theme most of its documents were written about."""
    with (out / "truth" / "documents.csv").open(encoding="utf-8") as fh:
        theme = {(r["source"], r["external_id"]): r["theme"] for r in csv.DictReader(fh)}
    rows = db.execute("SELECT s.name, d.external_id, dt.topic_id FROM document_topics dt "
                      "JOIN documents d ON d.id = dt.document_id JOIN sources s ON s.id = d.source_id "
                      "WHERE dt.topic_id IS NOT NULL").fetchall()
    votes: dict[int, Counter] = {}
    for src, ext, tid in rows:
        if (src, ext) in theme:
            votes.setdefault(tid, Counter())[theme[(src, ext)]] += 1
    return {tid: c.most_common(1)[0][0] for tid, c in votes.items()}


def test_planted_surge_is_the_top_rising_topic_and_stable_themes_are_not_called(demo):
    path, out = demo
    db = store.open(path)
    planted = json.loads((out / "truth" / "planted.json").read_text())
    built = data.build(db, config.Config(), period="month")
    assert built["period"]["start"] <= planted["end"] <= built["period"]["end"]
    themes = _themes(db, out)
    rising = [t for t in built["topics"] if t["direction"] in ("rising", "emerging")]
    assert rising, "no rising topic found"
    assert themes[rising[0]["id"]] == planted["surge_theme"]
    assert rising[0]["q_value"] < 0.01
    assert rising[0]["need"] is not None  # the surge topic maps to a need of the taxonomy
    stable = set(planted["stable_themes"])
    called = [(t["label"], themes.get(t["id"])) for t in built["topics"]
              if t["direction"] != "stable" and themes.get(t["id"]) in stable]
    assert not called, f"stable planted themes called significant: {called}"


def test_report_json_follows_the_documented_schema(demo, tmp_path, cli):
    import jsonschema

    path = _copy(demo[0], tmp_path)
    doc = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    schema = json.loads(re.search(r"```json\n(.*?)\n```", doc, re.DOTALL).group(1))
    code, _, err = cli("--db", str(path), "report", "--period", "week", "--format", "json",
                       "--out", str(tmp_path / "r.json"), "--no-update", db=False)
    assert code == 0, err
    rep = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    jsonschema.validate(rep, schema)
    assert rep["period"]["kind"] == "week" and rep["topics"]
    # sorted by significance: tested topics by q-value first
    qs = [t["q_value"] for t in rep["topics"] if t["q_value"] is not None]
    assert qs == sorted(qs)
    assert all(len(t["quotes"]) <= 3 for t in rep["topics"])
    assert rep["summary"]["sentiment"] is not None  # enriched: sentiment flows into the report
    # --since/--until narrow the window, and the latest period follows --until
    code, out, err = cli("--db", str(path), "report", "--period", "month", "--format", "json",
                         "--until", "2026-04-30", "--no-update", db=False)
    assert code == 0, err
    assert json.loads(out)["period"] == {"kind": "month", "start": "2026-04-01", "end": "2026-04-30"}
    code, _, err = cli("--db", str(path), "report", "--since", "31/12/2026", "--no-update", db=False)
    assert code == 2 and "E307" in err


def _hostile_report(path: Path) -> dict:
    db = store.open(path)
    tid = topics.list_topics(db)[0]["id"]
    topics.rename(db, tid, HOSTILE)
    built = data.build(db, config.Config(), period="month")
    for t in built["topics"]:
        for q in t["quotes"]:
            q["text"] = HOSTILE + " " + q["text"]
    return built


def test_html_escapes_customer_text(demo, tmp_path):
    built = _hostile_report(_copy(demo[0], tmp_path))
    page = render.html(built)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")  # nothing remote
    md = render.markdown(built)
    assert "<script" not in md and "&lt;script&gt;" in md


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_html_renders_offline_in_headless_chromium(demo, tmp_path):
    built = _hostile_report(_copy(demo[0], tmp_path))
    page = tmp_path / "report.html"
    report.write_text(page, render.html(built))
    shot, dom = tmp_path / "report.png", tmp_path / "dom.html"
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--enable-logging=stderr", "--v=0",
            "--host-resolver-rules=MAP * ~NOTFOUND"]
    proc = subprocess.run(base + [f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                                  "--window-size=1280,2400", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    assert shot.is_file() and shot.stat().st_size > 20_000  # a real page, not a blank one
    proc = subprocess.run(base + [f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120, check=False)
    dom.write_text(proc.stdout)
    assert "alert('pwned')" in proc.stdout  # shown as text ...
    assert "<script" not in proc.stdout and "<img" not in proc.stdout  # ... never run
    assert 'id="topics"' in proc.stdout
    # a phone-sized viewport renders too
    phone = tmp_path / "phone.png"
    subprocess.run(base + [f"--user-data-dir={tmp_path / 'profile3'}", f"--screenshot={phone}",
                           "--window-size=390,2400", page.as_uri()], capture_output=True, timeout=120, check=False)
    assert phone.is_file() and phone.stat().st_size > 10_000


def test_report_cli_writes_markdown_and_html(demo, tmp_path, cli):
    path = _copy(demo[0], tmp_path)
    for fmt in ("md", "html"):
        target = tmp_path / f"report.{fmt}"
        code, out, err = cli("--db", str(path), "report", "--format", fmt, "--out", str(target), db=False)
        assert code == 0, err
        assert str(target) in out and target.stat().st_size > 1000
    assert "| # | topic |" in (tmp_path / "report.md").read_text()


class _Hook(http.server.BaseHTTPRequestHandler):
    received: typing.ClassVar[list[dict]] = []
    fail_next = 0

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if _Hook.fail_next > 0:
            _Hook.fail_next -= 1
            self.send_response(503)
            self.end_headers()
            return
        _Hook.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def webhook():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.received, _Hook.fail_next = [], 0
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_alerts_post_each_alert_once_and_retry_failures(demo, tmp_path, webhook, cli):
    path = _copy(demo[0], tmp_path)
    db = store.open(path)
    themes = _themes(db, demo[1])
    toml = tmp_path / "vocseg.toml"
    toml.write_text('[report]\nperiod = "month"\n')
    _Hook.fail_next = 1  # the first POST fails: it must be retried
    code, out, err = cli("--db", str(path), "--config", str(toml), "alerts", "--webhook", webhook,
                         "--no-update", "--json", db=False)
    assert code == 0, err
    first = json.loads(out)
    assert first["new"] and first["posted"] == len(first["new"]) and first["pending"] == 0
    keys = [a["key"] for a in _Hook.received]
    assert len(keys) == len(set(keys)) == len(first["new"])
    rises = [a for a in _Hook.received if a["kind"] == "rise"]
    planted = json.loads((demo[1] / "truth" / "planted.json").read_text())
    assert any(themes.get(a["topic_id"]) == planted["surge_theme"] for a in rises)
    assert all(q["text"] not in json.dumps(_Hook.received) for t in
               data.build(db, config.Config())["topics"][:3] for q in t["quotes"])
    # a rerun finds the same alerts and posts nothing again
    code, out, _ = cli("--db", str(path), "--config", str(toml), "alerts", "--webhook", webhook,
                       "--no-update", "--json", db=False)
    assert json.loads(out)["new"] == [] and json.loads(out)["posted"] == 0
    assert len(_Hook.received) == len(keys)


def test_alerts_keep_failed_posts_pending_and_slack_bodies(demo, tmp_path, webhook):
    path = _copy(demo[0], tmp_path)
    db = store.open(path)
    _Hook.fail_next = 100
    res = report_alerts(db, webhook, slack=True)
    assert res["posted"] == 0 and res["pending"] == len(res["new"]) > 0 and res["errors"]
    assert "failed after 2 attempts" in res["errors"][0]
    _Hook.fail_next = 0
    res2 = report_alerts(db, webhook, slack=True)
    assert res2["posted"] == len(res["new"]) and res2["pending"] == 0
    assert all(set(body) == {"text"} and body["text"].startswith("vocseg: ") for body in _Hook.received)


def report_alerts(db, webhook, slack=False):
    from vocseg import alerts

    return alerts.alerts(db, config.Config(), sensitivity="high", webhook=webhook, slack=slack, retries=2)


def test_export_documents_csv_jsonl_parquet(demo, tmp_path, cli):
    import pandas as pd

    from vocseg import ingest

    path = _copy(demo[0], tmp_path)
    db = store.open(path)
    ingest.ingest_records(db, [{"text": "=HYPERLINK(\"http://evil\",\"click\") terrible app",
                                "created_at": "2026-06-20"}], source="evil", kind="review")
    n = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    for fmt in ("csv", "jsonl", "parquet"):
        target = tmp_path / f"docs.{fmt}"
        code, out, err = cli("--db", str(path), "export", "documents", "--format", fmt,
                             "--out", str(target), "--json", db=False)
        assert code == 0, err
        assert json.loads(out)["rows"] == n
    frame = pd.read_parquet(tmp_path / "docs.parquet")
    assert len(frame) == n and {"id", "external_id", "source", "kind", "created_at", "customer", "text",
                                "sentiment_label", "sentiment_score", "topic_id", "topic_label",
                                "needs", "intent"} <= set(frame.columns)
    assert frame["topic_label"].notna().mean() > 0.5 and frame["sentiment_label"].notna().mean() > 0.9
    with (tmp_path / "docs.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == n
    evil = next(r for r in rows if r["source"] == "evil")
    assert evil["text"].startswith("'=HYPERLINK")
    assert not [r for r in rows if r["text"][:1] in ("=", "+", "-", "@")]
    lines = (tmp_path / "docs.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == n and json.loads(lines[0])["id"] == int(frame["id"].min())


CAT_ADVERT = [
    "Your new TV advert with the dancing cat is hilarious, my kids sing the song all day.",
    "Saw the dancing cat commercial on TV last night, brilliant advert!",
    "That TV ad with the cat dancing to the jingle is so catchy.",
    "Who made the dancing cat advert? The jingle is stuck in my head.",
    "The cat commercial on television made me laugh, great ad.",
    "Loved the advert with the dancing cat, played it three times on youtube.",
    "My daughter keeps dancing like the cat from your TV commercial.",
    "The dancing cat ad is everywhere on TV now, funny jingle.",
    "Please show the dancing cat advert more often, it is the best ad on TV.",
    "Your television advert with the cat is the funniest commercial this year.",
]


def test_new_theme_among_unassigned_documents_is_reported_as_emerging(demo, tmp_path):
    """A theme no topic covers stays unassigned after the report's update, and is reported."""
    from vocseg import ingest

    path = _copy(demo[0], tmp_path)
    db = store.open(path)
    ingest.ingest_records(db, [{"text": t, "created_at": f"2026-06-{22 + i % 7:02d}T10:00:00"}
                               for i, t in enumerate(CAT_ADVERT)], source="social-extra", kind="social")
    result = report.report(db, config.Config(), period="week", fmt="html", out=tmp_path / "r.html")
    assert result["updated"]["topics"]["documents"] == len(CAT_ADVERT)  # incremental: only the new ones
    assert db.execute("SELECT COUNT(*) FROM topic_models").fetchone()[0] == 1  # no refit
    built = data.build(db, config.Config(), period="week")
    assert built["data_quality"]["unassigned"] >= len(CAT_ADVERT) * 0.8
    [theme] = [e for e in built["emerging"] if "cat" in e["keywords"]]
    assert theme["size"] >= len(CAT_ADVERT) * 0.8 and "cat" in theme["label"]
    assert all(q["text"] in CAT_ADVERT for q in theme["quotes"])
    assert "New themes among unassigned documents" in (tmp_path / "r.html").read_text()
