"""Target fields, column-name auto-detection, ``--map`` parsing and the dataset presets.

A mapping says which source column feeds which target field (a column of the target
table as named in docs/schema.md, plus ``customer``, ``email``, ``handle``, ``reply_to``,
``product`` and ``unit_price``). It is built from, in order of precedence: ``--map``,
the preset, and auto-detection of common column names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vocseg.errors import Errors, UsageError

DOCUMENT_KINDS = ("review", "chat", "social", "survey", "ticket", "other")
KINDS = DOCUMENT_KINDS + ("transactions", "customers")

DOCUMENT_FIELDS = (
    "text", "title", "created_at", "external_id", "author", "rating", "rating_best", "rating_worst",
    "url", "channel", "language", "conversation_id", "turn", "role", "reply_to", "customer",
    "email", "handle", "name", "product", "kind",
)
TRANSACTION_FIELDS = (
    "external_id", "occurred_at", "amount", "unit_price", "currency", "quantity", "product",
    "channel", "customer", "email", "handle", "name",
)
CUSTOMER_FIELDS = ("customer", "email", "name", "handle")

# Common column names, normalised (lower case, non-alphanumerics -> _), best first.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "text": ("text", "review_text", "review_body", "body", "review", "comment", "comments", "content",
             "message", "feedback", "verbatim", "narrative", "consumer_complaint_narrative", "tweet",
             "post", "answer", "response_text", "message_text", "full_text"),
    "title": ("title", "review_title", "summary", "subject", "headline"),
    "created_at": ("created_at", "created", "date", "datetime", "timestamp", "time", "review_date",
                   "posted_at", "submitted_at", "date_received", "tweet_created", "published",
                   "published_at", "sent_at", "date_created"),
    "external_id": ("external_id", "id", "review_id", "document_id", "tweet_id", "message_id",
                    "ticket_id", "complaint_id", "response_id", "post_id", "uuid", "transaction_id",
                    "order_line_id"),
    "author": ("author", "author_name", "reviewer", "reviewer_name", "user_name", "username", "name",
               "screen_name", "user"),
    "rating": ("rating", "stars", "star_rating", "review_rating", "score", "nps", "nps_score", "csat",
               "overall", "likelihood_to_recommend"),
    "customer": ("customer", "customer_id", "customerid", "user_id", "client_id", "account_id",
                 "member_id", "customer_number"),
    "email": ("email", "e_mail", "email_address", "customer_email", "mail"),
    "handle": ("handle", "user_handle", "twitter_handle", "screen_name"),
    "url": ("url", "link", "permalink", "review_url"),
    "channel": ("channel", "platform", "submitted_via", "source_channel"),
    "language": ("language", "lang", "locale"),
    "conversation_id": ("conversation_id", "thread_id", "conversation", "chat_id", "session_id"),
    "turn": ("turn", "turn_index", "message_index", "seq", "sequence", "position"),
    "role": ("role", "speaker", "sender_role", "sender_type", "author_role"),
    "reply_to": ("reply_to", "in_reply_to", "in_reply_to_id", "in_response_to",
                 "in_response_to_tweet_id", "parent_id"),
    "product": ("product", "product_id", "product_name", "sku", "item", "stock_code", "stockcode",
                "description", "clothing_id"),
    "occurred_at": ("occurred_at", "order_date", "invoice_date", "invoicedate", "purchased_at",
                    "purchase_date", "transaction_date", "date", "datetime", "timestamp", "created_at"),
    "amount": ("amount", "total", "order_total", "line_total", "revenue", "sales", "value", "amount_paid"),
    "unit_price": ("unit_price", "unitprice", "price"),
    "quantity": ("quantity", "qty", "units"),
    "currency": ("currency", "currency_code"),
    "name": ("name", "full_name", "customer_name"),
    "kind": ("kind", "document_kind"),
}
# product/description are only auto-detected for transactions; name only for customers
_ONLY_FOR = {"description": ("transactions",)}


def fields_for(kind: str) -> tuple[str, ...]:
    if kind == "transactions":
        return TRANSACTION_FIELDS
    if kind == "customers":
        return CUSTOMER_FIELDS
    return DOCUMENT_FIELDS


def norm(column: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", column.lower()).strip("_")


@dataclass(frozen=True)
class Preset:
    """How to read one known dataset: its kind, column mapping, constants and quirks."""

    name: str
    description: str
    kind: str
    mapping: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)  # field -> fixed value
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> {raw: value}
    attributes: tuple[str, ...] = ()  # extra columns kept as document/customer attributes
    rating_scale: tuple[float, float] | None = None
    files: str = "*"  # which files of a directory to read
    header: tuple[str, ...] | None = None  # for files without a header row
    delimiter: str | None = None
    quoting: bool = True  # False: '"' is text, not a CSV quote (VADER's snippets)
    id_prefix_file: bool = False  # ids repeat across files: prefix them with the file stem


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "airline-tweets", "Twitter US Airline Sentiment (Crowdflower/Kaggle Tweets.csv)", "social",
            mapping={"external_id": "tweet_id", "text": "text", "created_at": "tweet_created",
                     "author": "name", "handle": "name"},
            constants={"channel": "twitter"},
            attributes=("airline", "airline_sentiment", "negativereason", "tweet_location", "user_timezone"),
        ),
        Preset(
            "twcs-support", "Customer Support on Twitter (Kaggle twcs.csv): threaded conversations",
            "chat",
            mapping={"external_id": "tweet_id", "text": "text", "created_at": "created_at",
                     "author": "author_id", "handle": "author_id", "role": "inbound",
                     "reply_to": "in_response_to_tweet_id"},
            constants={"channel": "twitter"},
            values={"role": {"True": "customer", "False": "agent"}},
        ),
        Preset(
            "womens-clothing-reviews", "Women's Clothing E-Commerce Reviews (Kaggle)", "review",
            mapping={"external_id": "column_1", "title": "Title", "text": "Review Text",
                     "rating": "Rating", "product": "Clothing ID"},
            attributes=("Age", "Recommended IND", "Positive Feedback Count", "Division Name",
                        "Department Name", "Class Name"),
            rating_scale=(1.0, 5.0),
        ),
        Preset(
            "online-retail-sample", "UCI Online Retail invoices: transactions linked to customers",
            "transactions",
            mapping={"occurred_at": "InvoiceDate", "quantity": "Quantity", "unit_price": "UnitPrice",
                     "product": "StockCode", "customer": "CustomerID"},
            constants={"currency": "GBP", "channel": "online"},
            attributes=("Country",),
        ),
        Preset(
            "cfpb-complaints", "CFPB Consumer Complaint Database: complaints as tickets", "ticket",
            mapping={"external_id": "Complaint ID", "text": "Consumer complaint narrative",
                     "created_at": "Date received", "channel": "Submitted via", "product": "Product"},
            attributes=("Sub-product", "Issue", "Sub-issue", "Company", "State",
                        "Company response to consumer", "Timely response?", "Consumer disputed?"),
        ),
        Preset(
            "vader-gold", "VADER human-rated snippets (Hutto & Gilbert 2014) as 'other' documents",
            "other",
            mapping={"external_id": "id", "rating": "mean_rating", "text": "text"},
            rating_scale=(-4.0, 4.0),
            files="*_GroundTruth.txt",
            header=("id", "mean_rating", "text"),
            delimiter="\t",
            quoting=False,
            id_prefix_file=True,
        ),
    )
}


def get_preset(name: str | None) -> Preset | None:
    if name is None:
        return None
    if name not in PRESETS:
        raise UsageError(Errors.E105.format(name=name, valid=", ".join(PRESETS)), code="E105")
    return PRESETS[name]


def parse_map(items: Iterable[str] | dict[str, str] | None, kind: str | None) -> dict[str, str]:
    """``["text=review_body", ...]`` (or a dict) -> {field: column}, checking the fields."""
    if not items:
        return {}
    pairs = items.items() if isinstance(items, dict) else [_split(i) for i in items]
    valid = fields_for(kind or "review") if kind else tuple(dict.fromkeys(
        DOCUMENT_FIELDS + TRANSACTION_FIELDS + CUSTOMER_FIELDS))
    out = {}
    for fld, col in pairs:
        if fld not in valid:
            raise UsageError(
                Errors.E104.format(item=f"{fld}={col}", reason=f"'{fld}' is not a field of {kind or 'any kind'}",
                                   valid=", ".join(valid)),
                code="E104",
            )
        out[fld] = col
    return out


def _split(item: str) -> tuple[str, str]:
    fld, sep, col = item.partition("=")
    if not sep or not fld.strip() or not col.strip():
        valid = ", ".join(dict.fromkeys(DOCUMENT_FIELDS + TRANSACTION_FIELDS))
        raise UsageError(Errors.E104.format(item=item, reason="no '='", valid=valid), code="E104")
    return fld.strip(), col.strip()


def detect(columns: Sequence[str], kind: str) -> dict[str, str]:
    """Auto-detect {field: column} from common column names (each column used once)."""
    by_norm: dict[str, str] = {}
    for c in columns:
        by_norm.setdefault(norm(c), c)
    used: set[str] = set()
    out: dict[str, str] = {}
    for fld in fields_for(kind):
        for syn in SYNONYMS.get(fld, ()):
            if syn in _ONLY_FOR and kind not in _ONLY_FOR[syn]:
                continue
            col = by_norm.get(syn)
            if col is not None and col not in used:
                out[fld] = col
                used.add(col)
                break
    # a user name on a social platform is also the person's handle
    if kind not in ("transactions", "customers") and "handle" not in out and "author" in out \
            and norm(out["author"]) in ("screen_name", "username", "user_name", "user_handle"):
        out["handle"] = out["author"]
    return out


def guess_kind(columns: Sequence[str]) -> str:
    """transactions when there is an amount/price and no text column; else 'other' documents."""
    found = detect(columns, "review")
    tx = detect(columns, "transactions")
    if "text" not in found and ("amount" in tx or "unit_price" in tx):
        return "transactions"
    if "text" not in found and ("email" in found or "customer" in found):
        return "customers"
    if "rating" in found and "text" in found:
        return "review"
    return "other"


def resolve(columns: Sequence[str] | None, kind: str, preset: Preset | None,
            explicit: dict[str, str]) -> dict[str, str]:
    """The mapping for one file: explicit --map over the preset over auto-detection."""
    out = detect(columns, kind) if columns else {}
    if preset is not None:
        # a preset is complete: auto-detection only fills fields it does not name or set
        out = {k: v for k, v in out.items() if k not in preset.constants and v not in preset.mapping.values()}
        out.update(preset.mapping)
    for fld, col in explicit.items():
        for other in [k for k, v in out.items() if v == col and k != fld and k not in explicit]:
            if not (preset and other in preset.mapping):
                del out[other]
        out[fld] = col
    return out


def describe(mapping: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in mapping.items())
