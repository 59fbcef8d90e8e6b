"""Segments: features, RFM, CLV, the cohort grid, clusters, history, protected attributes."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import segments_data as sd

from vocseg import config, segments, store
from vocseg.errors import ConfigError
from vocseg.segments import clv, filters, protected, rfm
from vocseg.segments.lookalike import lookalike


def _cfg(**kw):
    # exact classes in these synthetic worlds: no shrinkage unless a test asks for it
    kw.setdefault("prior_weight", 0.0)
    return config.SegmentsConfig(**kw)


@pytest.fixture
def world(db):
    truth = sd.world(db, n=120)
    return db, truth


def test_quintile_scores_and_mapping_cover_every_combination():
    s = rfm.quintile_score(pd.Series([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]))
    assert s.tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    ties = rfm.quintile_score(pd.Series([1] * 6 + [2, 3, 4, 9]))
    assert set(ties[:6]) == {1}  # equal values get equal scores
    rec = rfm.quintile_score(pd.Series([1.0, 400.0]), higher_is_better=False)
    assert rec.tolist()[0] > rec.tolist()[1]  # recent buyers score higher
    rules = rfm.load_mapping()
    assert {
        "champions",
        "loyal",
        "potential-loyalists",
        "new",
        "at-risk",
        "hibernating",
        "lost",
    } <= {r.name for r in rules}
    assert rfm.assign_one(rules, 5, 5, 5) == "champions"
    assert rfm.assign_one(rules, 1, 1, 1) == "lost"
    assert rfm.assign_one(rules, 5, 1, 1) == "new"
    assert rfm.assign_one(rules, 1, 5, 5) == "cant-lose-them"


def test_user_mapping_file_is_used_and_checked(tmp_path, world):
    db, _ = world
    path = tmp_path / "rfm.toml"
    path.write_text(
        '[[segment]]\nname = "vip"\nlabel = "VIP"\nr = [3, 5]\nf = [3, 5]\nm = [3, 5]\n'
        '[[segment]]\nname = "everyone-else"\nlabel = "Everyone else"\n',
        encoding="utf-8",
    )
    result = segments.segment(db, _cfg(rfm_mapping=str(path)))
    assert set(result["grid"]["happy"]) <= {"vip", "everyone-else"}
    assert {r["name"] for r in segments.list_segments(db, kinds=("cohort",))} >= {"unhappy-vip"}
    path.write_text('[[segment]]\nname = "vip"\nr = [3, 5]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"E404.*no rule matches R=1"):
        rfm.load_mapping(path)


def test_behaviour_features_from_transactions():
    as_of = pd.Timestamp("2025-06-30", tz="UTC")
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2],
            "occurred_at": pd.to_datetime(
                [
                    "2025-01-01T10:00",
                    "2025-01-01T11:00",
                    "2025-05-01T00:00",
                    "2025-06-20T00:00",
                    "2024-01-01T00:00",
                ],
                utc=True,
            ),
            "amount": [10.0, 15.0, 40.0, -5.0, 99.0],
        }
    )
    b = rfm.behaviour(tx, as_of, trend_days=70)
    # two line items on one day count as one purchase day; the refund day is not a purchase
    assert b.loc[1, "frequency"] == 2
    assert b.loc[1, "monetary"] == pytest.approx(60.0)
    assert b.loc[1, "recency_days"] == pytest.approx(10.0)
    assert b.loc[1, "bg_x"] == 1 and b.loc[1, "bg_m"] == pytest.approx(40.0)
    assert b.loc[1, "trend"] == pytest.approx(
        1.0
    )  # spent 35 in the last 70 days, 0 in the 70 before
    assert b.loc[2, "trend"] == pytest.approx(0.0)  # old enough, bought nothing in either window
    assert b.loc[2, "frequency"] == 1 and b.loc[2, "bg_x"] == 0


def test_clv_model_recovers_simulated_buying():
    """BG/NBD + Gamma-Gamma on simulated buy-till-you-die data: heavier buyers are worth more,
    and the fitted purchase rate is close to the simulated one."""
    rng = np.random.default_rng(0)
    n, horizon = 3000, 365.0
    lam = rng.gamma(2.0, 1 / 60.0, n)  # mean one purchase per 30 days
    p = rng.beta(1.0, 8.0, n)
    x, tx_, T = np.zeros(n), np.zeros(n), np.full(n, horizon)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > horizon:
                break
            x[i] += 1
            tx_[i] = t
            if rng.random() < p[i]:
                break
    m = np.where(x > 0, rng.gamma(5, 10, n), 0)
    values, info = clv.clv(x, tx_, T, m, months=12)
    assert info["model"] == "bg/nbd + gamma-gamma"
    r, alpha = info["bgnbd"]["r"], info["bgnbd"]["alpha"]
    assert r / alpha == pytest.approx(2.0 / 60.0, rel=0.25)
    assert values[x >= 8].mean() > 2 * values[x <= 1].mean()
    assert np.all(values >= 0)
    none, why = clv.clv(x[:5], tx_[:5], T[:5], m[:5])
    assert none is None and "repeat buyers" in why["reason"]


def test_cohort_grid_satisfaction_and_features(world):
    db, truth = world
    result = segments.segment(db, _cfg())
    assert result["customers"] == len(truth)
    got = {
        r[0]: r[1]
        for r in db.conn.execute("SELECT customer_id, satisfaction_class FROM customer_features")
    }
    assert all(got[c] == t["mood"] for c, t in truth.items())
    f = pd.read_sql_query("SELECT * FROM customer_features", db.conn).set_index("customer_id")
    assert (f["top_need"] == pd.Series({c: t["need"] for c, t in truth.items()})).all()
    assert f["clv"].notna().all() and f["rfm_segment"].notna().all()
    assert json.loads(f["needs"].iloc[0])  # a share per need
    cohorts = {r["name"]: r["size"] for r in segments.list_segments(db)}
    assert cohorts["happy"] + cohorts["neutral"] + cohorts["unhappy"] == len(truth)
    grid_total = sum(v for row in result["grid"].values() for v in row.values())
    assert grid_total == len(truth)
    for s, row in result["grid"].items():
        for seg, n in row.items():
            assert cohorts[f"{s}-{seg}"] == n
    clusters = segments.list_segments(db, kinds=("cluster",))
    assert 2 <= len(clusters) <= 8
    prof = segments.show(db, clusters[0]["name"])["profile"]
    assert prof["top_needs"] and len(prof["quotes"]) == min(3, prof["size"])
    assert {"size", "revenue_share", "satisfaction"} <= set(prof)


def test_agent_turns_do_not_count_as_customer_voice(db):
    cid = sd.add_customer(db, "X1", "x@example.com", "X Y")
    sd.add_review(
        db, cid, "Terrible, never again.", dt.date(2025, 5, 1), satisfaction=0.1, need="price"
    )
    sd.add_review(
        db,
        cid,
        "We are so happy to help you! Thanks!",
        dt.date(2025, 5, 2),
        satisfaction=0.95,
        need=None,
        role="agent",
        kind="chat",
    )
    segments.segment(db, _cfg(min_cluster_customers=1000))
    row = db.conn.execute(
        "SELECT n_feedback, satisfaction, satisfaction_class FROM customer_features"
    ).fetchone()
    assert row == (1, pytest.approx(0.1), "unhappy")


def test_recency_weighting_and_nps(db):
    cid = sd.add_customer(db, "R1", None, None)
    sd.add_review(db, cid, "Awful.", dt.date(2024, 1, 1), satisfaction=0.0, need=None)
    sd.add_review(db, cid, "Great now.", dt.date(2025, 1, 1), satisfaction=1.0, need=None)
    sd.add_review(
        db,
        cid,
        "Would recommend",
        dt.date(2025, 1, 2),
        satisfaction=0.9,
        need=None,
        kind="survey",
        rating=0.9,
        rating_raw="9",
    )
    segments.segment(db, _cfg(half_life_days=90, min_cluster_customers=1000))
    sat, nps, cls = db.conn.execute(
        "SELECT satisfaction, nps_score, nps_class FROM customer_features"
    ).fetchone()
    assert sat > 0.85  # the year-old review counts about 1/16
    assert (nps, cls) == (9, "promoter")


def test_membership_history_after_a_second_ingest(world):
    db, truth = world
    segments.segment(db, _cfg())
    cid = next(c for c, t in truth.items() if t["mood"] == "happy")
    before = {h["segment"] for h in segments.history(db, cid)}
    assert "happy" in before
    # new feedback arrives: this happy customer is now furious, several times over
    for k in range(6):
        sd.add_review(
            db,
            cid,
            f"Broken again, {k} times now.",
            dt.date(2025, 6, 29),
            satisfaction=0.0,
            need="product quality",
        )
    result = segments.segment(db, _cfg())
    assert result["voice_recomputed"] == 1  # only the changed customer's voice is recomputed
    hist = segments.history(db, cid)
    happy = [h for h in hist if h["segment"] == "happy"]
    unhappy = [h for h in hist if h["segment"] == "unhappy"]
    assert len(happy) == 1 and happy[0]["valid_to"] is not None
    assert len(unhappy) == 1 and unhappy[0]["valid_to"] is None
    assert unhappy[0]["valid_from"] == happy[0]["valid_to"]
    assert cid in segments.members(db, "happy", at=happy[0]["valid_from"])
    assert cid not in segments.members(db, "happy")
    # a third run with nothing new changes no membership
    again = segments.segment(db, _cfg())
    assert again["joined"] == 0 and again["left"] == 0 and again["voice_recomputed"] == 0


def test_report_section_names_the_movement(world):
    from vocseg.segments import report

    db, _ = world
    segments.segment(db, _cfg())
    mark = pd.Timestamp.now(tz="UTC").isoformat()
    champs = segments.members(db, "happy-champions")
    for cid in champs:
        for k in range(6):
            sd.add_review(
                db,
                cid,
                f"You lost me, {k} times.",
                dt.date(2025, 6, 29),
                satisfaction=0.0,
                need="price",
            )
    segments.segment(db, _cfg())
    data = report.section(db, since=mark)
    moved = [m for m in data["movements"] if m["segment"] == "champions" and m["to"] == "unhappy"]
    assert moved and moved[0]["count"] == len(champs)
    assert moved[0]["text"].startswith(f"{len(champs)} Champions became unhappy")
    rows = {s["name"]: s for s in data["segments"]}
    assert rows["happy-champions"]["change"] == -len(champs)
    assert "Champions became unhappy" in report.markdown(data)


def test_vocseg_report_has_the_segments_section(world):
    """The report (built and rendered by vocseg.report) carries the section, escaped."""
    from vocseg import report as report_mod

    db, _ = world
    cfg = config.Config()
    segments.segment(db, cfg.segments)
    cid = segments.members(db, "happy")[0]
    for k in range(8):
        sd.add_review(
            db,
            cid,
            f"<script>alert({k})</script> [x](javascript:y) broken",
            dt.date(2025, 6, 29),
            satisfaction=0.0,
            need="price",
        )
    segments.segment(db, cfg.segments)
    md = report_mod.report(db, cfg, fmt="md", update=False)["text"]
    assert "### Segments" in md and "became unhappy" in md
    html = report_mod.report(db, cfg, fmt="html", update=False)["text"]
    section = html[html.index('<section id="segments">') :]
    assert "became unhappy" in section and "<script>alert" not in html


def test_protected_attributes_are_refused(world):
    db, _ = world
    for name in (
        "age",
        "Gender",
        "customer_age_band",
        "ethnicity",
        "religion",
        "disability",
        "nationality",
    ):
        assert protected.category(name), name
    for name in ("average_order_value", "usage", "page_views", "monetary"):
        assert protected.category(name) is None, name
    with pytest.raises(ConfigError, match=r"E401.*'gender'.*protected attribute.*discriminatory"):
        segments.segment(db, _cfg(extra_features=["plan", "gender"]))
    with pytest.raises(ConfigError, match=r"E401.*attr\.age.*\(age\)"):
        segments.segment(db, _cfg(custom={"older": "attr.age >= 60"}))
    with pytest.raises(ConfigError, match="E401"):
        config.load(overrides={}) and segments.validate(
            _cfg(custom={"by-religion": "monetary > 0"})
        )
    assert db.conn.execute("SELECT count(*) FROM segments").fetchone()[0] == 0  # nothing written


def test_protected_attribute_refused_from_vocseg_toml(tmp_path, cli):
    (tmp_path / "vocseg.toml").write_text(
        '[segments]\nextra_features = ["nationality"]\n', encoding="utf-8"
    )
    code, _, err = cli("--config", str(tmp_path / "vocseg.toml"), "segment")
    assert code == 1 and "E401" in err and "nationality" in err and "Traceback" not in err


def test_opt_in_audit(world):
    from vocseg.segments import audit

    db, _ = world
    db.conn.execute(
        "UPDATE customers SET attributes = json_object('gender', CASE id % 2 WHEN 0 THEN 'f' ELSE 'm' END)"
    )
    segments.segment(db, _cfg())
    with pytest.raises(ConfigError, match="E407"):
        audit.audit(db, _cfg(audit_attributes=["gender"]))
    result = audit.audit(db, _cfg(protected_audit=True, audit_attributes=["gender"]))
    g = result["attributes"]["gender"]
    assert set(g["overall"]) == {"f", "m"} and g["segments"]["happy"]["n"] > 0


def test_custom_segments_filter_features(world):
    db, truth = world
    segments.segment(
        db,
        _cfg(
            custom={
                "vip-unhappy": "monetary >= 300 and satisfaction_class == 'unhappy'",
                "talks-price": "top_need in ('price',)",
            }
        ),
    )
    f = pd.read_sql_query(
        "SELECT customer_id, monetary, satisfaction_class, top_need FROM customer_features", db.conn
    ).set_index("customer_id")
    want = set(f.index[(f["monetary"] >= 300) & (f["satisfaction_class"] == "unhappy")])
    assert set(segments.members(db, "vip-unhappy")) == want and want
    assert set(segments.members(db, "talks-price")) == {
        c for c, t in truth.items() if t["need"] == "price"
    }
    for bad in ("__import__('os').system('x')", "monetary.__class__", "nosuch > 1", "monetary >"):
        with pytest.raises(ConfigError, match="E402"):
            segments.validate(_cfg(custom={"x": bad}))
    with pytest.raises(filters.FilterSyntaxError):
        filters.evaluate("open('f')", f)


def test_lookalike_ranks_the_planted_group_first(db):
    """Silent customers: 15 buy like the happy champions (often, recently, big baskets), 60 don't."""
    rng = np.random.default_rng(1)
    end = dt.date(2025, 6, 30)
    db.conn.execute("BEGIN")
    planted = []
    for i in range(30):  # the cohort: happy frequent big spenders with feedback
        cid = sd.add_customer(db, f"H{i}", f"h{i}@example.com", "Hap Py")
        sd.add_review(
            db, cid, "Love it.", end - dt.timedelta(days=5), satisfaction=0.95, need="price"
        )
        days = [end - dt.timedelta(days=int(d)) for d in sorted(rng.integers(0, 200, 20))]
        sd.add_purchases(db, cid, days, list(rng.normal(200, 20, 20)))
    for i in range(30):  # other customers with feedback: occasional small buyers
        cid = sd.add_customer(db, f"O{i}", None, None)
        sd.add_review(db, cid, "Meh.", end - dt.timedelta(days=50), satisfaction=0.5, need="price")
        days = [end - dt.timedelta(days=int(d)) for d in rng.integers(100, 700, 2)]
        sd.add_purchases(db, cid, days, list(rng.normal(20, 5, 2)))
    for i in range(75):  # silent: 15 lookalikes, 60 not
        cid = sd.add_customer(db, f"S{i}", f"s{i}@example.com", None)
        if i < 15:
            planted.append(cid)
            days = [end - dt.timedelta(days=int(d)) for d in sorted(rng.integers(0, 200, 18))]
            sd.add_purchases(db, cid, days, list(rng.normal(190, 25, 18)))
        else:
            k = int(rng.integers(1, 4))
            days = [end - dt.timedelta(days=int(d)) for d in rng.integers(60, 700, k)]
            sd.add_purchases(db, cid, days, list(rng.normal(30, 10, k)))
    db.conn.execute("COMMIT")
    segments.segment(db, _cfg(happy_threshold=0.8))
    ranked = lookalike(db, "happy", top=15)
    assert len(ranked) == 15
    hits = sum(r["customer_id"] in planted for r in ranked)
    assert hits >= 14, hits
    assert all(r["customer_id"] not in segments.members(db, "happy") for r in ranked)
    scores = [r["similarity"] for r in ranked]
    assert scores == sorted(scores, reverse=True)


def test_forget_erases_features_memberships_and_sync_log(world):
    db, _ = world
    segments.segment(db, _cfg())
    cid = segments.members(db, "unhappy")[0]
    db.conn.execute(
        "INSERT INTO cohort_sync_log (target, cohort, customer_id, action, batch_key, synced_at) "
        "VALUES ('http://x/', 'unhappy', ?, 'join', 'k', '2025-01-01')",
        [cid],
    )
    store.forget(db, str(cid))
    for table in ("customer_features", "segment_memberships", "cohort_sync_log"):
        n = db.conn.execute(
            f"SELECT count(*) FROM {table} WHERE customer_id = ?", [cid]
        ).fetchone()[0]
        assert n == 0, table
    # the next run works without them
    again = segments.segment(db, _cfg())
    assert again["customers"] == 119
    assert cid not in segments.members(db, "unhappy")


def test_one_angry_review_is_weaker_evidence_than_five(db):
    """With the default prior, a single typical 1-star review (enrich gives about 0.2) does not
    make a customer unhappy; a consistent history of them does."""
    rng = np.random.default_rng(5)
    db.conn.execute("BEGIN")
    for i in range(40):  # the population: mostly content
        cid = sd.add_customer(db, f"P{i}", None, None)
        sd.add_review(
            db,
            cid,
            "fine",
            dt.date(2025, 5, 1),
            satisfaction=float(rng.uniform(0.5, 0.9)),
            need=None,
        )
    once = sd.add_customer(db, "ONCE", None, None)
    sd.add_review(db, once, "awful", dt.date(2025, 5, 1), satisfaction=0.2, need=None)
    often = sd.add_customer(db, "OFTEN", None, None)
    for k in range(5):
        sd.add_review(db, often, f"awful {k}", dt.date(2025, 5, 1 + k), satisfaction=0.2, need=None)
    db.conn.execute("COMMIT")
    segments.segment(db, config.SegmentsConfig(min_cluster_customers=1000))
    got = dict(
        db.conn.execute(
            "SELECT customer_id, satisfaction_class FROM customer_features WHERE customer_id IN (?, ?)",
            [once, often],
        ).fetchall()
    )
    assert got[often] == "unhappy" and got[once] != "unhappy"
    raw = db.conn.execute(
        "SELECT satisfaction_raw FROM customer_features WHERE customer_id = ?", [once]
    ).fetchone()[0]
    assert raw == pytest.approx(0.2)  # the raw mean is kept beside the shrunk one
