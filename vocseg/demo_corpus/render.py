"""Rendering the planned corpus as export files, with real-export messiness.

Each ``*_rows`` function is pure: planned records in, file rows and truth rows out.
``write_*`` functions do the IO, byte-for-byte deterministic (no clocks in the XLSX).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import re
import zipfile
from pathlib import Path
from typing import Any

from vocseg.demo_corpus import text as T
from vocseg.demo_corpus.plan import Customer, Unit

FIXED_ZIP_TIME = (2026, 6, 29, 0, 0, 0)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_KEY = {"negative": "neg", "positive": "pos", "neutral": "neu"}
#: plural product names as a singular noun phrase ("the pair of headphones is ...")
_ITEM = {
    "Headphones": "pair of headphones",
    "Running shoes": "pair of running shoes",
    "Storage boxes": "set of storage boxes",
}

Truth = list[dict[str, Any]]


# --- date forms real exports use ----------------------------------------------------


def iso_z(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def slash_date(t: dt.datetime) -> str:
    return f"{t.year}/{t.month}/{t.day}"


def with_offset(t: dt.datetime, hours: int) -> str:
    """``2026-03-04 06:22:05 -0800``: local time with its UTC offset."""
    local = t.astimezone(dt.timezone(dt.timedelta(hours=hours)))
    return local.strftime("%Y-%m-%d %H:%M:%S %z")


def twitter(t: dt.datetime) -> str:
    """``Wed Mar 04 14:22:05 +0000 2026`` (locale-free)."""
    return f"{_DAYS[t.weekday()]} {_MONTHS[t.month - 1]} {t:%d %H:%M:%S} +0000 {t.year}"


# --- text -------------------------------------------------------------------------------


def _join(opener: str, body: str) -> str:
    """Opener then body; an opener without a full stop runs on into the sentence."""
    if not opener:
        return body
    if opener[-1] in ".!?" or opener.startswith("@"):
        return f"{opener} {body}"
    keep = body.startswith(("I ", "I'")) or body[1:2].isupper()
    return f"{opener} {body if keep else body[:1].lower() + body[1:]}"


def _doc_text(
    rng: random.Random, u: Unit, kind: str, pii: dict[str, int], fixed: dict[str, str] | None = None
) -> str:
    n_main = 2 if kind == "review" and rng.random() < 0.35 else 1
    body = T.body(rng, u.theme, u.sentiment, surge=u.surge, n_main=n_main, fixed=fixed)
    opener = T.expand(rng, rng.choice(T.OPENERS[kind]), fixed)
    text = _join(opener, body)
    closer = T.expand(rng, rng.choice(T.CLOSERS[u.sentiment]))
    if closer and kind != "social":
        text = f"{text} {closer}"
    if kind == "social":
        tag = rng.choice(T.HASHTAGS[u.sentiment])
        text = f"{text} {tag}".strip()
    text = T.roughen(rng, text, casual=kind == "social")
    if kind == "social":
        text = text[:240]  # room left for the personal details below within a post's 280
    if u.customer is not None and rng.random() < (0.012 if kind != "social" else 0.006):
        text += " " + _pii_sentence(rng, u.customer, pii)
    if kind == "review" and rng.random() < 0.03:
        text = text.replace(". ", ".\n\n", 1)  # a multi-line review: quoted newlines in CSV
    return text


def _pii_sentence(rng: random.Random, c: Customer, pii: dict[str, int]) -> str:
    if c.phone and rng.random() < 0.5:
        pii["phones"] += 1
        return rng.choice(
            ["Call me on {} if you need details.", "My number is {}.", "Please ring me back on {}."]
        ).format(c.phone)
    pii["emails"] += 1
    return rng.choice(
        [
            "You can reach me at {}.",
            "My email is {} if anyone wants to follow up.",
            "Contact me: {}",
        ]
    ).format(c.email)


def _email_as_typed(rng: random.Random, email: str) -> str:
    """E-mails as people type them: sometimes capitalised or padded (ingest normalises)."""
    r = rng.random()
    if r < 0.12:
        return email[:1].upper() + email[1:]
    if r < 0.18:
        return email.upper()
    if r < 0.22:
        return f" {email} "
    return email


def _truth(
    ext: str,
    source: str,
    u: Unit,
    sentiment: str,
    role: str = "customer",
    when: dt.datetime | None = None,
) -> dict[str, Any]:
    return {
        "external_id": ext,
        "source": source,
        "theme": u.theme,
        "sentiment": sentiment,
        "customer": u.customer.id if u.customer else "",
        "role": role,
        "created_at": iso_z(when or u.when),
    }  # type: ignore[arg-type]


# --- one function per export ---------------------------------------------------------------


def customer_rows(people: list[Customer]) -> list[dict[str, Any]]:
    return [
        {
            "customer_id": c.id,
            "name": c.name,
            "email": c.email,
            "handle": c.handle or "",
            "phone": c.phone or "",
            "city": c.city,
            "signup_date": c.signup.isoformat(),
        }
        for c in people
    ]


def transaction_rows(rng: random.Random, txs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for i, t in enumerate(txs, 1):
        r = rng.random()
        when = (
            slash_date(t["when"])
            if r < 0.05
            else (iso_z(t["when"]) if r < 0.2 else t["when"].strftime("%Y-%m-%d %H:%M:%S"))
        )
        rows.append(
            {
                "order_id": f"ORD-{i:06d}",
                "customer_id": t["customer_id"],
                "order_date": when,
                "amount": f"{t['amount']:.2f}",
                "currency": "EUR",
                "quantity": t["quantity"],
                "product": t["product"],
                "channel": t["channel"],
            }
        )
    return rows


def _stars(rng: random.Random, sentiment: str) -> int:
    return {
        "positive": rng.choices((5, 4), (60, 40)),
        "neutral": rng.choices((3, 2, 4), (70, 15, 15)),
        "negative": rng.choices((1, 2), (60, 40)),
    }[sentiment][0]


def review_rows(
    rng: random.Random, units: list[Unit], products: list[str], pii: dict[str, int]
) -> tuple[list[dict[str, Any]], Truth]:
    rows, truth = [], []
    for i, u in enumerate(sorted(units, key=lambda x: x.when), 1):  # type: ignore[arg-type,return-value]
        ext = f"R{i:06d}"
        c = u.customer
        guest = c is not None and rng.random() < 0.15  # guest checkout: e-mail, no account id
        r = rng.random()
        when = (
            slash_date(u.when)
            if r < 0.1
            # type: ignore[arg-type]
            else (with_offset(u.when, 1) if r < 0.15 else iso_z(u.when))
        )  # type: ignore[arg-type]
        title_bank = T.THEMES[u.theme][f"title_{_KEY[u.sentiment]}"]
        product = rng.choice(products)
        fixed = {"item": _ITEM.get(product, product.lower())}
        rows.append(
            {
                "review_id": ext,
                "customer_id": "" if guest or c is None else c.id,
                "customer_email": _email_as_typed(rng, c.email) if guest and c else "",
                "date": when,
                "stars": _stars(rng, u.sentiment),
                "title": T.sentence(rng, title_bank, fixed),  # type: ignore[arg-type]
                "review_text": _doc_text(rng, u, "review", pii, fixed),
                "product": product,
                "channel": rng.choices(("website", "app"), (70, 30))[0],
            }
        )
        truth.append(_truth(ext, "reviews", u, u.sentiment))
    return rows, truth


def social_rows(
    rng: random.Random, units: list[Unit], pii: dict[str, int]
) -> tuple[list[dict[str, Any]], Truth]:
    rows, truth = [], []
    for i, u in enumerate(sorted(units, key=lambda x: x.when), 1):  # type: ignore[arg-type,return-value]
        ext = str(1_790_000_000_000 + i * 7919)
        handle = u.customer.handle if u.customer else u.handle
        if rng.random() < 0.2:  # platforms keep the case the person typed
            handle = handle[:1].upper() + handle[1:]  # type: ignore[index]
        rows.append(
            {
                "post_id": ext,
                "handle": f"@{handle}",
                "created_at": twitter(u.when),  # type: ignore[arg-type]
                "text": _doc_text(rng, u, "social", pii),
                "likes": int(rng.paretovariate(1.5)) - 1,
                "platform": rng.choice(("x", "x", "instagram")),
            }
        )
        truth.append(_truth(ext, "social", u, u.sentiment))
    return rows, truth


def _nps_score(rng: random.Random, sentiment: str) -> int:
    return {
        "positive": rng.choices((10, 9), (55, 45)),
        "neutral": rng.choices((8, 7, 6), (45, 45, 10)),
        "negative": rng.choices((0, 1, 2, 3, 4, 5, 6), (6, 6, 10, 16, 20, 22, 20)),
    }[sentiment][0]


def nps_rows(
    rng: random.Random, units: list[Unit], pii: dict[str, int]
) -> tuple[list[dict[str, Any]], Truth]:
    rows, truth = [], []
    for i, u in enumerate(sorted(units, key=lambda x: x.when), 1):  # type: ignore[arg-type,return-value]
        ext = f"NPS-{i:05d}"
        naive = u.when.replace(tzinfo=None)  # type: ignore[union-attr]
        when: Any = naive if rng.random() < 0.93 else naive.strftime("%Y-%m-%d %H:%M")
        rows.append(
            {
                "response_id": ext,
                "customer_id": u.customer.id if u.customer else "",
                "submitted_at": when,
                "score": _nps_score(rng, u.sentiment),
                "comment": _doc_text(rng, u, "survey", pii),
            }
        )
        truth.append(_truth(ext, "nps", u, u.sentiment))
    return rows, truth


def chat_rows(
    rng: random.Random, units: list[Unit], pii: dict[str, int]
) -> tuple[list[Any], Truth]:
    """Conversations: customer and agent turns with turn order and reply-to links."""
    rows: list[Any] = []
    truth: Truth = []
    msg = 0
    for n, u in enumerate(sorted(units, key=lambda x: x.when), 1):  # type: ignore[arg-type,return-value]
        c = u.customer
        conv = f"CONV-{n:05d}"
        known = (
            rng.random() < 0.4
        )  # the chat widget knew the account; else only the e-mail typed in
        email = _email_as_typed(rng, c.email) if c else ""
        agent = rng.choice(T.SLOTS["agent"])
        tz = rng.choice((-8, -5, 0, 0, 0, 1, 2))  # the help desk's export zone, per conversation
        n_turns = rng.choices((3, 4, 5), (25, 15, 60))[0]
        t = u.when
        prev = None
        for turn, (role, text, senti) in enumerate(_conversation(rng, u, agent, n_turns, pii), 1):
            msg += 1
            ext = f"MSG-{msg:06d}"
            rows.append(
                {
                    "message_id": ext,
                    "conversation_id": conv,
                    "turn": turn,
                    "role": role,
                    "author": c.name.split()[0] if role == "customer" and c else f"agent:{agent}",
                    "customer_id": c.id if role == "customer" and c and known else "",
                    "email": email if role == "customer" else "",
                    "created_at": with_offset(t, tz),  # type: ignore[arg-type]
                    "text": text,
                    "reply_to": prev,
                    "channel": "web_chat",
                }
            )
            truth.append(_truth(ext, "chats", u, senti, role=role, when=t))
            prev = ext
            t = t + dt.timedelta(minutes=rng.randint(1, 12), seconds=rng.randint(0, 59))  # type: ignore[operator]
    return rows, truth


def _conversation(
    rng: random.Random, u: Unit, agent: str, n_turns: int, pii: dict[str, int]
) -> list[tuple[str, str, str]]:
    theme = T.THEMES[u.theme]
    neg = u.sentiment == "negative"
    greet = rng.choice(T.CHAT_GREETINGS)
    if neg:
        first = T.body(rng, u.theme, "negative", surge=u.surge)
    else:
        first = T.sentence(rng, theme["ask"])  # type: ignore[arg-type]
        first = (
            first.split(", ", 1)[1]
            if first.startswith(("Hi, ", "Hello, ", "Hi there, "))
            else first
        )
        first = first[:1].upper() + first[1:]
    opening = f"{greet}, {first[:1].lower() + first[1:] if first[1:2].islower() else first}"
    if u.customer is not None and rng.random() < 0.06:
        opening += " " + _pii_sentence(rng, u.customer, pii)
    detail = T.sentence(rng, theme["detail"])  # type: ignore[arg-type]
    if neg:
        detail = f"{rng.choice(T.CHAT_ANGRY)} {detail}"
    close = T.expand(rng, rng.choice(T.CHAT_CLOSE[u.sentiment]).replace("{agent}", agent))
    close = f"{close} {rng.choice(T.CLOSE_REF[u.theme])}"
    first_senti = "negative" if neg else "neutral"
    turns = [
        ("customer", T.roughen(rng, opening, casual=True), first_senti),
        (
            "agent",
            (
                f"{T.expand(rng, rng.choice(T.AGENT_GREETINGS).replace('{agent}', agent))} "
                f"{T.sentence(rng, theme['agent'])}"
            ),
            "neutral",
        ),  # type: ignore[arg-type]
        ("customer", T.roughen(rng, detail, casual=True), first_senti),
        ("agent", T.sentence(rng, theme["resolve"]), "neutral"),  # type: ignore[arg-type]
        ("customer", T.roughen(rng, close, casual=True), u.sentiment),
    ]
    return turns[:n_turns]


# --- planted malformed rows -------------------------------------------------------------


def plant_malformed(rng: random.Random, files: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Insert a few broken rows that ingest must quarantine; return where they are and why.

    ``row`` is the 1-based data record (CSV/XLSX rows after the header, JSONL lines,
    JSON array items); ``line`` is the physical line (CSV, JSONL) or sheet row (XLSX).
    """

    def tpl(name: str) -> dict[str, Any]:
        return dict(rng.choice(files[name]))

    bad: list[tuple[str, Any, str, str]] = []
    r = tpl("reviews.csv") | {"review_id": "R900001", "date": "2026-02-30"}
    bad.append(("reviews.csv", r, "R900001", "unparseable date"))
    r = tpl("reviews.csv") | {"review_id": "R900002", "title": "", "review_text": ""}
    bad.append(("reviews.csv", r, "R900002", "missing text"))
    r = tpl("reviews.csv") | {"review_id": "R900003", "stars": 7}
    bad.append(("reviews.csv", r, "R900003", "rating out of range (7 on a 1-5 scale)"))
    raw = json.dumps(tpl("chats.jsonl") | {"message_id": "MSG-900001"}, ensure_ascii=False)
    bad.append(("chats.jsonl", raw[: len(raw) // 2], "MSG-900001", "invalid JSON (truncated line)"))
    m = tpl("chats.jsonl") | {
        "message_id": "MSG-900002",
        "conversation_id": "CONV-90001",
        "turn": 1,
        "reply_to": None,
        "text": "",
    }
    bad.append(("chats.jsonl", m, "MSG-900002", "missing text"))
    p = tpl("social.json") | {"post_id": "1790999999999", "created_at": "sometime last week"}
    bad.append(("social.json", p, "1790999999999", "unparseable date"))
    s = tpl("nps.xlsx") | {"response_id": "NPS-90001", "score": 11}
    bad.append(("nps.xlsx", s, "NPS-90001", "rating out of range (11 on a 0-10 scale)"))
    s = tpl("nps.xlsx") | {"response_id": "NPS-90002", "comment": None}
    bad.append(("nps.xlsx", s, "NPS-90002", "missing text"))
    t = tpl("transactions.csv") | {"order_id": "ORD-900001", "order_date": "31/13/2026"}
    bad.append(("transactions.csv", t, "ORD-900001", "unparseable date"))
    t = tpl("transactions.csv") | {"order_id": "ORD-900002", "amount": "n/a"}
    bad.append(("transactions.csv", t, "ORD-900002", "missing or invalid amount"))
    for name, row, _, _ in bad:
        files[name].insert(rng.randrange(1, len(files[name])), row)
    placed = []
    for name, row, ext, reason in bad:  # rows shift as later ones go in: locate each at the end
        pos = next(i for i, x in enumerate(files[name], 1) if x is row)
        placed.append({"file": name, "row": pos, "external_id": ext, "reason": reason})
    return placed


# --- writers ---------------------------------------------------------------------------------


def write_csv(path: Path, rows: list[dict[str, Any]], *, bom: bool = False) -> list[int]:
    """Write rows; return the physical line each data row starts on (header = line 1)."""
    one = io.StringIO(newline="")
    w = csv.DictWriter(one, fieldnames=list(rows[0]), lineterminator="\r\n")
    w.writeheader()
    parts = [one.getvalue()]
    starts = []
    line = 2
    for r in rows:
        one.seek(0)
        one.truncate()
        w.writerow(r)
        chunk = one.getvalue()
        parts.append(chunk)
        starts.append(line)
        line += chunk.count("\n")
    path.write_bytes(("\ufeff" if bom else "").encode() + "".join(parts).encode("utf-8"))
    return starts


def write_jsonl(path: Path, rows: list[Any]) -> list[int]:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    return list(range(1, len(rows) + 1))


def write_json(path: Path, rows: list[dict[str, Any]]) -> list[int]:
    path.write_text(
        json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8", newline="\n"
    )
    return list(range(1, len(rows) + 1))


def write_xlsx(path: Path, rows: list[dict[str, Any]], *, sheet: str = "Responses") -> list[int]:
    """An XLSX with real date cells; zip entry times and document properties fixed."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    header = list(rows[0])
    ws.append(header)
    for r in rows:
        ws.append([r[h] for h in header])
    for cell in ws["C"][1:]:
        if isinstance(cell.value, dt.datetime):
            cell.number_format = "yyyy-mm-dd hh:mm"
    fixed = dt.datetime(*FIXED_ZIP_TIME)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "vocseg demo"
    raw = io.BytesIO()
    wb.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>2026-06-29T00:00:00Z\g<2>", data
                )
            dst.writestr(
                zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME),
                data,
                compress_type=zipfile.ZIP_DEFLATED,
            )
    path.write_bytes(out.getvalue())
    return list(range(2, len(rows) + 2))
