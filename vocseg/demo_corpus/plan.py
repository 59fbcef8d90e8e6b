"""Planning the demo corpus: customers, orders, and who writes what about which theme, when.

Pure simulation (no IO): ``customers``, ``transactions`` and ``plan`` return plain
records that ``render`` turns into export files. Every random draw comes from a
``random.Random`` seeded from the corpus seed, so a seed gives the same corpus everywhere.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass
from typing import Any

from vocseg.demo_corpus import text as T

END = dt.date(2026, 6, 28)  # a Sunday: the last Monday-Sunday week and June both end here
N_DAYS = 182  # 26 full weeks
START = END - dt.timedelta(days=N_DAYS - 1)  # 2025-12-29, a Monday
SURGE_THEME = "app_crash"
SURGE_WEEKS = 4
SURGE_START = END - dt.timedelta(days=7 * SURGE_WEEKS - 1)  # 2026-06-01
#: target share of the surge theme among all customer-voice documents in each of the last 4 weeks
SURGE_SHARE = (0.05, 0.07, 0.12, 0.26)

SEGMENTS: dict[str, dict[str, Any]] = {
    "price_sensitive": {
        "themes": ["price_value", "billing_error"],
        "share": 0.24,
        "description": "Watch prices, discounts and every charge on their card.",
        "frequency": 1.15,
        "tiers": (0.6, 0.35, 0.05),
    },
    "delivery_focused": {
        "themes": ["delivery_delay", "returns_exchanges"],
        "share": 0.22,
        "description": "Care about getting parcels on time and returning them easily.",
        "frequency": 1.0,
        "tiers": (0.35, 0.45, 0.2),
    },
    "app_focused": {
        "themes": ["ease_of_use", "missing_features"],
        "share": 0.18,
        "description": "Shop in the app; write about usability and the features they miss.",
        "frequency": 1.1,
        "tiers": (0.35, 0.45, 0.2),
    },
    "quality_seekers": {
        "themes": ["product_quality", "sustainability"],
        "share": 0.20,
        "description": "Buy fewer, better things; care about build quality and packaging waste.",
        "frequency": 0.85,
        "tiers": (0.15, 0.45, 0.4),
    },
    "support_reliant": {
        "themes": ["helpful_support", "support_wait"],
        "share": 0.16,
        "description": "Contact customer service often; judge the shop by its support.",
        "frequency": 1.0,
        "tiers": (0.35, 0.45, 0.2),
    },
}
#: chance that a document is about one of its author's segment themes (else: BACKGROUND)
PRIMARY_P = 0.85
#: theme mix of the other documents, and of posts by people who are not customers
BACKGROUND = {t: 0.06 for t in T.THEME_NAMES} | {"app_crash": 0.2, "trust_privacy": 0.2}

SATISFACTION = {"happy": 0.45, "neutral": 0.30, "unhappy": 0.25}
#: (positive, neutral, negative) chance of a document's sentiment by its author's satisfaction
SENTIMENT_MIX = {
    "happy": (0.82, 0.15, 0.03),
    "neutral": (0.15, 0.80, 0.05),
    "unhappy": (0.02, 0.13, 0.85),
}
#: purchases per 30 days at the start of the window, and how the rate drifts by the end
PURCHASE_RATE = {"happy": 1.7, "neutral": 1.25, "unhappy": 0.9}
RATE_DRIFT = {"happy": 0.2, "neutral": 0.0, "unhappy": -0.5}
CHURN_P = {"happy": 0.04, "neutral": 0.15, "unhappy": 0.55}
#: documents at scale 1.0 (chats: conversations); social posts by non-customers: NONCUSTOMER_P
SIZES = {"customers": 3000, "reviews": 3000, "chats": 600, "social": 1500, "nps": 1200}
NONCUSTOMER_P = 0.3
SILENT_P = 0.25  # customers who never write

FIRST = [
    "Jane",
    "Tom",
    "Priya",
    "Mohammed",
    "Chloe",
    "Lukas",
    "Sofia",
    "Oliver",
    "Amara",
    "Wei",
    "Hannah",
    "José",
    "Zoë",
    "Liam",
    "Fatima",
    "Noah",
    "Emma",
    "Kwame",
    "Yuki",
    "Isabella",
    "Ahmed",
    "Mia",
    "Daniel",
    "Aisha",
    "Ben",
    "Grace",
    "Mateo",
    "Olivia",
    "Raj",
    "Elena",
    "Samuel",
    "Chiara",
    "Ivan",
    "Leila",
    "George",
    "Nina",
    "Oscar",
    "Sara",
    "Hugo",
    "Freya",
    "Arjun",
    "Lucy",
    "Kofi",
    "Anna",
    "Marco",
    "Ruby",
    "Tariq",
    "Ella",
    "Jonas",
    "Maya",
    "Felix",
    "Aoife",
    "Dmitri",
    "Ines",
    "Ethan",
    "Nadia",
    "Jack",
    "Léa",
    "Omar",
    "Harriet",
    "Pedro",
    "Mei",
    "Callum",
    "Rosa",
    "Viktor",
    "Ada",
]
LAST = [
    "Smith",
    "Jones",
    "Patel",
    "Khan",
    "Williams",
    "Brown",
    "Nguyen",
    "García",
    "Müller",
    "Rossi",
    "O'Brien",
    "Taylor",
    "Wilson",
    "Kowalski",
    "Okafor",
    "Tanaka",
    "Silva",
    "Martin",
    "Cohen",
    "Ali",
    "Evans",
    "Murphy",
    "Dubois",
    "Novak",
    "Hughes",
    "Chen",
    "Singh",
    "Walsh",
    "Larsen",
    "Moreau",
    "Clarke",
    "Ahmed",
    "Schmidt",
    "Kelly",
    "Mensah",
    "Lopez",
    "Fischer",
    "Young",
    "Byrne",
    "Costa",
    "Bakker",
    "Ward",
    "Hall",
    "Ivanova",
    "Reid",
    "Fraser",
    "Lindqvist",
    "Popescu",
    "Sato",
    "Hussain",
]
CITIES = [
    "London",
    "Manchester",
    "Leeds",
    "Bristol",
    "Glasgow",
    "Dublin",
    "Cardiff",
    "Belfast",
    "Birmingham",
    "Edinburgh",
    "Liverpool",
    "Newcastle",
    "Cork",
    "Brighton",
    "Nottingham",
    "Sheffield",
    "Oxford",
    "York",
    "Galway",
    "Aberdeen",
]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com", "example.co.uk"]
#: (name, price in EUR); tiers: cheap, mid, premium
PRODUCTS = (
    [
        ("Water bottle", 9.5),
        ("Phone case", 12.0),
        ("Notebook set", 8.0),
        ("Bike light", 15.0),
        ("Scarf", 18.0),
        ("Plant pot", 11.0),
        ("Bath towel set", 19.5),
        ("Storage boxes", 14.0),
    ],
    [
        ("Hoodie", 39.0),
        ("Kettle", 34.0),
        ("Desk lamp", 29.0),
        ("Backpack", 45.0),
        ("Yoga mat", 25.0),
        ("Frying pan", 32.0),
        ("Toaster", 38.0),
        ("Running shoes", 59.0),
        ("Linen shirt", 42.0),
        ("Rain coat", 55.0),
        ("Bluetooth speaker", 49.0),
    ],
    [
        ("Office chair", 189.0),
        ("Air fryer", 99.0),
        ("Headphones", 129.0),
        ("Coffee grinder", 85.0),
        ("Wool jumper", 79.0),
        ("Knife set", 110.0),
        ("Cast iron pan", 69.0),
        ("Bedside table", 149.0),
    ],
)


@dataclass
class Customer:
    id: str
    name: str
    email: str
    handle: str | None
    phone: str | None
    city: str
    signup: dt.date
    segment: str
    satisfaction: str
    churn_day: int | None
    weight: float  # how much this customer writes (0: never)


@dataclass
class Unit:
    """One planned piece of customer voice (a review, post, survey answer or conversation)."""

    source: str
    customer: Customer | None
    theme: str
    sentiment: str
    surge: bool = False
    handle: str | None = None  # for posts by people who are not customers
    when: dt.datetime | None = None


def rng_for(seed: int, part: str) -> random.Random:
    # string seeds hash with sha512, stable across processes and Python builds
    return random.Random(f"vocseg-demo/{seed}/{part}")


def _ascii(s: str) -> str:
    return (
        unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().replace("'", "").lower()
    )


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _sentiment(rng: random.Random, satisfaction: str) -> str:
    return rng.choices(("positive", "neutral", "negative"), weights=SENTIMENT_MIX[satisfaction])[0]


def _at(day: float) -> dt.datetime:
    base = dt.datetime.combine(START, dt.time(), tzinfo=dt.UTC)
    return (base + dt.timedelta(days=day)).replace(microsecond=0)


# --- customers and transactions ----------------------------------------------------


def customers(rng: random.Random, n: int) -> list[Customer]:
    """N customers, each with a planted need segment, satisfaction and (maybe) churn day."""
    seg_names = list(SEGMENTS)
    seg_w = [SEGMENTS[s]["share"] for s in seg_names]
    emails: set[str] = set()
    handles: set[str] = set()
    phones = [f"+44 7700 900{i:03d}" for i in range(1000)] + [
        f"020 7946 0{i:03d}" for i in range(1000)
    ]
    phones += [f"0113 496 0{i:03d}" for i in range(1000)]
    rng.shuffle(phones)
    out = []
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        f, la = _ascii(first), _ascii(last)
        while True:
            local = rng.choice(
                [f"{f}.{la}", f"{f}{la}", f"{f[0]}{la}", f"{f}_{la}", f"{f}.{la[0]}"]
            )
            email = f"{local}{rng.choice(['', '', str(rng.randint(1, 99))])}@{rng.choice(DOMAINS)}"
            if email not in emails:
                emails.add(email)
                break
        handle = None
        if rng.random() < 0.45:
            while handle is None or handle in handles:
                handle = rng.choice([f"{f}{la[:1]}", f"{f}_{la}", f"{f[:3]}{la[:4]}", f"the{f}"])
                handle += rng.choice(["", str(rng.randint(1, 999))])
            handles.add(handle)
        sat = _pick(rng, SATISFACTION)
        if rng.random() < 0.1:  # joined during the window
            signup = START + dt.timedelta(days=rng.randrange(0, N_DAYS - 60))
        else:
            signup = dt.date(2021, 1, 1) + dt.timedelta(
                days=rng.randrange(0, (START - dt.date(2021, 1, 1)).days)
            )
        start_day = max(0, (signup - START).days)
        churn = rng.randint(max(40, start_day + 14), 150) if rng.random() < CHURN_P[sat] else None
        out.append(
            Customer(
                id=f"C{i + 1:05d}",
                name=f"{first} {last}",
                email=email,
                handle=handle,
                phone=phones[i % len(phones)] if rng.random() < 0.6 else None,
                city=rng.choice(CITIES),
                signup=signup,
                segment=rng.choices(seg_names, weights=seg_w)[0],
                satisfaction=sat,
                churn_day=churn,
                weight=0.0 if rng.random() < SILENT_P else rng.lognormvariate(0, 0.5),
            )
        )
    return out


def transactions(rng: random.Random, people: list[Customer]) -> list[dict[str, Any]]:
    """Orders as a thinned Poisson process per customer: rate by satisfaction and segment,
    drifting over the window (unhappy customers slow down), nothing after churn."""
    rows = []
    for c in people:
        seg = SEGMENTS[c.segment]
        lo = max(0.0, float((c.signup - START).days))
        hi = float(c.churn_day if c.churn_day is not None else N_DAYS)
        base = PURCHASE_RATE[c.satisfaction] * seg["frequency"] * rng.lognormvariate(0, 0.3) / 30.0
        drift = RATE_DRIFT[c.satisfaction]
        top = base * max(1.0, 1.0 + drift)
        days: list[float] = []
        t = lo
        while True:
            t += rng.expovariate(top)
            if t >= hi:
                break
            if rng.random() * top < base * (1.0 + drift * t / N_DAYS):
                days.append(t)
        if not days:  # every customer on file bought at least once
            days.append(rng.uniform(lo, hi))
        for d in days:
            tier = rng.choices((0, 1, 2), weights=seg["tiers"])[0]
            product, price = rng.choice(PRODUCTS[tier])
            qty = rng.choices((1, 2, 3), weights=(75, 18, 7))[0]
            amount = (
                price
                * qty
                * (0.9 if c.segment == "price_sensitive" and rng.random() < 0.3 else 1.0)
            )
            rows.append(
                {
                    "when": _at(d),
                    "customer_id": c.id,
                    "amount": round(amount, 2),
                    "quantity": qty,
                    "product": product,
                    "channel": rng.choices(("web", "app", "store"), weights=(50, 35, 15))[0],
                }
            )
    rows.sort(key=lambda r: (r["when"], r["customer_id"]))
    return rows


# --- planning the voice: who writes what, when --------------------------------------


def _theme_for(rng: random.Random, c: Customer | None) -> str:
    if c is not None and rng.random() < PRIMARY_P:
        return rng.choice(SEGMENTS[c.segment]["themes"])
    return _pick(rng, BACKGROUND)


def plan(rng: random.Random, people: list[Customer], scale: float) -> list[Unit]:
    """Every review, conversation, post and survey answer: author, theme, sentiment, time."""
    writers = [c for c in people if c.weight > 0]
    social_writers = [c for c in writers if c.handle]
    units: list[Unit] = []
    for source in ("reviews", "chats", "social", "nps"):
        n = max(1, round(SIZES[source] * scale))
        pool = social_writers if source == "social" else writers
        authors = rng.choices(pool, weights=[c.weight for c in pool], k=n)
        for c in authors:
            if source == "social" and rng.random() < NONCUSTOMER_P:
                units.append(
                    Unit(
                        source,
                        None,
                        _theme_for(rng, None),
                        rng.choice(("positive", "neutral", "negative")),
                        handle=_stranger(rng),
                    )
                )
            else:
                units.append(Unit(source, c, _theme_for(rng, c), _sentiment(rng, c.satisfaction)))
    # spread each (source, theme) evenly over the window: stable themes keep a steady weekly volume
    groups: dict[tuple[str, str], list[Unit]] = {}
    for u in units:
        groups.setdefault((u.source, u.theme), []).append(u)
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        for k, u in enumerate(members):
            u.when = _at((k + rng.random()) / len(members) * N_DAYS)
    units += _surge(rng, units, writers, social_writers)
    return units


def _stranger(rng: random.Random) -> str:
    return f"{rng.choice(['', 'real', 'its', 'not'])}{_ascii(rng.choice(FIRST))}{rng.randint(10, 9999)}"


def _surge(
    rng: random.Random, units: list[Unit], writers: list[Customer], social_writers: list[Customer]
) -> list[Unit]:
    """Extra documents about SURGE_THEME in each of the last weeks, on top of the steady volume."""
    base_share = sum(u.theme == SURGE_THEME for u in units) / len(units)
    per_week = len(units) / (N_DAYS / 7)
    counts: dict[str, int] = {}
    for u in units:
        counts[u.source] = counts.get(u.source, 0) + 1
    extra: list[Unit] = []
    for w, share in enumerate(SURGE_SHARE):
        n = round(per_week * (share - base_share) / (1 - share))
        week_start = N_DAYS - 7 * (SURGE_WEEKS - w)
        sources = _allocate(n, counts)
        rng.shuffle(sources)
        for k, source in enumerate(sources):
            if source == "social" and rng.random() < NONCUSTOMER_P:
                u = Unit(source, None, SURGE_THEME, "negative", surge=True, handle=_stranger(rng))
            else:
                pool = social_writers if source == "social" else writers
                c = rng.choices(pool, weights=[x.weight for x in pool])[0]
                # unhappy customers plainly complain; the others grumble in a mixed way
                senti = "negative" if c.satisfaction == "unhappy" else "neutral"
                u = Unit(source, c, SURGE_THEME, senti, surge=True)
            u.when = _at(week_start + (k + rng.random()) / n * 7)
            extra.append(u)
    return extra


def _allocate(n: int, weights: dict[str, int]) -> list[str]:
    """N items split over keys in proportion to weights (largest remainder), as a flat list."""
    total = sum(weights.values())
    exact = {k: n * w / total for k, w in weights.items()}
    whole = {k: int(x) for k, x in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - whole[k], reverse=True)[: n - sum(whole.values())]:
        whole[k] += 1
    return [k for k in weights for _ in range(whole[k])]

