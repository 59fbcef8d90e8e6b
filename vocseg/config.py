"""Typed configuration: one ``Config`` object with a section per stage.

Loaded from ``vocseg.toml`` (current directory, or ``--config PATH``). Every field
has a default and a help line (the ``help`` metadata), so an empty or missing file
is a valid configuration. Unknown sections or keys are a ``ConfigError`` naming them.
CLI options override fields with dotted keys (``{"topics.min_size": 20}``).

Each stage owns its section below; functions receive their section, never the
whole object, and nothing here reads environment variables.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vocseg.errors import ConfigError, Errors


def _f(default: Any, help: str, choices: tuple[str, ...] = ()) -> Any:
    """A field with a default and a help line (shown in docs/config.md); ``choices`` are the
    only values a string field accepts."""
    meta = {"help": help, "choices": choices}
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class IngestConfig:
    max_text_chars: int = _f(100_000, "A text field longer than this is quarantined, not truncated.")
    batch_size: int = _f(5_000, "Rows written per transaction.")
    redact: bool = _f(True, "Replace e-mails, phone numbers and card numbers in free text.")
    parse_process: bool = _f(
        True, "Parse files over 8 MB in a second process while this one writes (uses two cores)."
    )


@dataclass(frozen=True)
class ModelsConfig:
    spacy: str = _f("en_core_web_sm", "spaCy pipeline: an installed package name or a local path.")
    embedding: str = _f(
        "all-MiniLM-L6-v2",
        "Sentence-embedding model: the packaged all-MiniLM-L6-v2; minilm-static, vocseg's "
        "packaged fast static model (enrich ~7x faster, somewhat weaker needs; see "
        "vocseg/data/STATIC_CARD.md); a local path; or a hub id (hub ids need internet the "
        "first time).",
    )
    device: str = _f("cpu", "Torch device for embeddings: cpu, cuda or mps.")
    precision: str = _f(
        "auto",
        "Arithmetic of a transformer embedder on the CPU: auto runs it in bfloat16 where the CPU "
        "has native bfloat16 instructions (AVX512-BF16 or AMX; 1.5-1.9x faster, cosine to "
        "float32 vectors above 0.9999) and in float32 elsewhere; float32 or bfloat16 force one.",
        choices=("auto", "float32", "bfloat16"),
    )
    backend: str = _f(
        "auto",
        "What runs a transformer embedder on the CPU: auto uses OpenVINO where it is installed "
        "(1.3x faster than PyTorch in the same arithmetic, same vectors; the model is exported "
        "once into the cache folder, ~7 s) and PyTorch elsewhere; torch or openvino force one.",
        choices=("auto", "torch", "openvino"),
    )


@dataclass(frozen=True)
class EnrichConfig:
    batch_size: int = _f(256, "Documents per enrichment batch.")
    n_process: int = _f(2, "spaCy worker processes (use the machine's cores).")
    entities: bool = _f(True, "Run spaCy's named-entity recognizer (about a third of spaCy's time).")
    needs_file: str = _f("", "Needs taxonomy TOML; empty uses the packaged vocseg/data/needs.toml.")
    needs_threshold: float = _f(
        0.0, "Cosine similarity a sentence needs to express a need; 0 uses the calibrated default."
    )
    rating_weight: float = _f(0.6, "Weight of the star rating in satisfaction when a rating exists.")
    whole_text_max_chars: int = _f(
        280,
        "With a transformer embedder, a document of more than one sentence and more characters "
        "than this is embedded as the "
        "length-weighted mean of its sentence vectors (which enrich computes anyway) instead of "
        "by one more model pass over its whole text: 45% less embedding on reviews, and no "
        "truncation at the model's 256 word pieces. 0 embeds every document whole.",
    )
    sentiment_model: str = _f(
        "", "Sentiment coefficients JSON; empty uses the packaged one for the embedding model."
    )


@dataclass(frozen=True)
class TopicsConfig:
    min_size: int = _f(0, "Minimum topic size; 0 scales it to the corpus.")
    seed: int = _f(42, "Random seed so a refit on the same data gives the same topics.")
    threshold: float = _f(
        0.3,
        "Minimum cosine similarity between a document and its topic's centroid; documents "
        "below it stay unassigned (outliers) and are pooled to detect emerging themes.",
    )
    match_threshold: float = _f(
        0.7, "On --refit, a new topic keeps an old topic's id and label when their centroids' "
        "cosine similarity is at least this.",
    )
    cluster_selection: str = _f(
        "eom",
        "How HDBSCAN picks topics from its cluster tree: eom (excess of mass: fewer, broader "
        "topics) or leaf (the finest clusters; it splits themes: on the demo corpus the planted "
        "surge was no longer the top rising topic).",
        choices=("eom", "leaf"),
    )
    max_topic_share: float = _f(
        0.25,
        "Largest share of the fitted documents one topic may take (0: no limit). With eom, HDBSCAN "
        "otherwise sometimes keeps a few broad clusters: 4 topics, the largest 44% of the "
        "documents, on the 20k benchmark, where 0.25 gave 34-41 topics with a higher NMI.",
    )
    representation: str = _f("keybert", "Keyword representation: keybert (KeyBERT-like) or mmr.")
    ngram_max: int = _f(2, "Longest keyword phrase, in words.")
    top_n_words: int = _f(10, "Keywords kept per topic.")
    stop_words: list = _f([], "Extra stop words kept out of keywords and labels (brand names...).")
    fit_sample: int = _f(
        50_000,
        "Fit on at most this many documents (a seeded random sample) and assign the rest to the "
        "fitted topics by nearest centroid, as `topics update` does; keeps fitting time and memory "
        "flat on large stores. 0 fits on every document.",
    )


@dataclass(frozen=True)
class ReportConfig:
    period: str = _f("week", "Reporting period: day, week or month.")
    alpha: float = _f(0.01, "False-discovery rate for calling a topic shift significant.")
    baseline_periods: int = _f(8, "Earlier periods that form the baseline of the latest one.")
    min_count: int = _f(
        5, "Minimum volume: a topic is tested only when its latest or expected count reaches this."
    )
    quotes: int = _f(3, "Verbatim quotes shown per topic.")
    top_topics: int = _f(15, "Topics shown in full in the HTML and Markdown reports.")


@dataclass(frozen=True)
class SegmentsConfig:
    protected_audit: bool = _f(
        False,
        "Opt-in audit: show how segments are distributed across the protected attributes "
        "listed in audit_attributes (they are never segmentation features).",
    )
    audit_attributes: list[str] = _f([], "customers.attributes keys the opt-in audit reports on.")
    happy_threshold: float = _f(0.65, "Customers with satisfaction (0..1) at or above this are happy.")
    unhappy_threshold: float = _f(
        0.35,
        "Customers with satisfaction at or below this are unhappy (0.35 and 0.65 sit 0.15 either "
        "side of the scale's midpoint).",
    )
    half_life_days: float = _f(
        180.0, "Recency weighting of feedback: a review this many days older counts half."
    )
    prior_weight: float = _f(
        1.5,
        "Pseudo-documents at the neutral midpoint (0.5) added to each customer's satisfaction, "
        "so one review moves a customer less than a consistent history (0 = none).",
    )
    as_of: str = _f(
        "", "Date RFM recency is measured to (ISO); empty = the latest transaction in the store."
    )
    rfm_mapping: str = _f(
        "", "TOML file mapping R/F/M quintile scores to segment names; empty = the packaged one."
    )
    trend_days: int = _f(90, "Trend compares spend in the last N days with the N days before.")
    clv_horizon_months: int = _f(12, "Expected customer lifetime value horizon, in months.")
    clv_discount: float = _f(0.01, "Monthly discount rate for the expected lifetime value.")
    max_clusters: int = _f(8, "Largest number of data-driven clusters tried (k by silhouette).")
    min_cluster_customers: int = _f(30, "Fewer customers with feedback than this: no clusters.")
    cluster_weights: dict[str, float] = _f(
        {"text": 1.0, "needs": 0.5, "satisfaction": 0.3, "behaviour": 0.3},
        "Weight of each clustering block: text (what they write about, from embeddings), needs "
        "(need taxonomy shares), satisfaction, behaviour (RFM and trend).",
    )
    extra_features: list[str] = _f(
        [], "customers.attributes keys added as clustering features (never protected ones)."
    )
    custom: dict[str, str] = _f(
        {},
        'Custom segments: name = filter over features, e.g. vip-unhappy = "monetary >= 500 '
        'and satisfaction_class == \'unhappy\'".',
    )
    push_batch_size: int = _f(500, "Members per JSON batch sent by `vocseg cohorts push`.")
    push_retries: int = _f(5, "Tries per batch on 5xx or timeouts (4xx is never retried).")
    push_backoff: float = _f(0.5, "First retry wait in seconds; doubles on each retry.")
    push_timeout: float = _f(10.0, "Seconds to wait for the webhook to answer one batch.")
    seed: int = _f(42, "Random seed for clustering, so a rerun on the same data agrees.")


@dataclass(frozen=True)
class CrawlConfig:
    user_agent: str = _f(
        "vocseg (+https://example.org/vocseg-bot)",
        "User agent sent by the spiders; put a contact URL of yours in it.",
    )
    download_delay: float = _f(1.0, "Minimum seconds between requests to one site (0 = none).")
    concurrency_per_domain: int = _f(2, "Most requests in flight to one site at a time.")
    concurrency: int = _f(16, "Most requests in flight in total, over all sites.")
    autothrottle: bool = _f(True, "Adapt the delay to the site's response times (AutoThrottle).")
    autothrottle_start_delay: float = _f(5.0, "AutoThrottle's first delay, in seconds.")
    autothrottle_max_delay: float = _f(60.0, "AutoThrottle's longest delay when a site is slow.")
    autothrottle_target_concurrency: float = _f(
        1.0, "Requests AutoThrottle aims to have in flight per site."
    )
    retry_times: int = _f(3, "Retries of a failed request (with growing backoff) before giving up.")
    retry_backoff: float = _f(1.0, "Seconds before the first retry; doubles for each next retry.")
    timeout: float = _f(30.0, "Seconds to wait for one response.")
    http_cache: bool = _f(False, "Cache responses on disk (for developing a spider; not for cron).")
    http_cache_dir: str = _f(".vocseg-httpcache", "Folder of the HTTP cache, when it is on.")
    incremental: bool = _f(
        True, "Skip what earlier crawls stored: stop paginating at known items (--full ignores it)."
    )
    batch_size: int = _f(500, "Items handed to ingest per batch.")
    log_level: str = _f("WARNING", "Scrapy log level for `vocseg crawl` (DEBUG, INFO, WARNING).")
    project_dir: str = _f("", "Folder of the Scrapy project (with scrapy.cfg); empty = bundled.")


@dataclass(frozen=True)
class Config:
    ingest: IngestConfig = field(default_factory=IngestConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    enrich: EnrichConfig = field(default_factory=EnrichConfig)
    topics: TopicsConfig = field(default_factory=TopicsConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    segments: SegmentsConfig = field(default_factory=SegmentsConfig)
    crawl: CrawlConfig = field(default_factory=CrawlConfig)


def sections() -> dict[str, type]:
    """Section name -> dataclass type, in declaration order."""
    return {f.name: f.default_factory for f in dataclasses.fields(Config)}  # type: ignore[misc]


def _check_type(value: Any, tp: Any, where: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise ConfigError(Errors.E012.format(path=where, key=key, expected="a list", got=value),
                              code="E012")
        return origin(value) if origin is tuple else list(value)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(Errors.E012.format(path=where, key=key, expected="a table", got=value),
                              code="E012")
        return dict(value)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _check_type(value, args[0], where, key)
    if isinstance(tp, type) and not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
        raise ConfigError(
            Errors.E012.format(path=where, key=key, expected=getattr(tp, "__name__", str(tp)), got=value),
            code="E012",
        )
    return value


def _build(data: dict[str, Any], where: str) -> Config:
    secs = sections()
    built = {}
    for name, values in data.items():
        if name not in secs:
            raise ConfigError(
                Errors.E011.format(path=where, section=name, valid=", ".join(secs)), code="E011"
            )
        cls = secs[name]
        hints = typing.get_type_hints(cls)
        valid = [f.name for f in dataclasses.fields(cls)]
        if not isinstance(values, dict):
            raise ConfigError(
                Errors.E012.format(path=where, key=name, expected="a table", got=values), code="E012"
            )
        choices = {f.name: f.metadata.get("choices", ()) for f in dataclasses.fields(cls)}
        kwargs = {}
        for key, value in values.items():
            if key not in valid:
                raise ConfigError(
                    Errors.E010.format(path=where, key=key, section=name, valid=", ".join(valid)),
                    code="E010",
                )
            kwargs[key] = _check_type(value, hints[key], where, f"{name}.{key}")
            if choices[key] and kwargs[key] not in choices[key]:
                raise ConfigError(
                    Errors.E012.format(path=where, key=f"{name}.{key}",
                                       expected="one of " + ", ".join(choices[key]), got=value),
                    code="E012",
                )
        built[name] = cls(**kwargs)
    return Config(**built)


def load(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Load ``vocseg.toml`` (``path``, else ./vocseg.toml if present), then apply overrides.

    Example: ``load(overrides={"topics.min_size": 20}).topics.min_size == 20``
    """
    data: dict[str, Any] = {}
    where = "defaults"
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise ConfigError(Errors.E014.format(path=p), code="E014")
    else:
        p = Path("vocseg.toml")
    if p.exists():
        where = str(p)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(Errors.E013.format(path=p, reason=exc), code="E013") from None
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        section, _, key = dotted.partition(".")
        data.setdefault(section, {})[key] = value
    return _build(data, where)


def describe() -> list[tuple[str, str, Any, str]]:
    """(section, key, default, help) for every field: the source of docs/config.md."""
    rows = []
    for name, cls in sections().items():
        inst = cls()
        for f in dataclasses.fields(cls):
            rows.append((name, f.name, getattr(inst, f.name), f.metadata.get("help", "")))
    return rows


def markdown() -> str:
    """docs/config.md, generated from the dataclasses (a test keeps the file in sync)."""
    lines = [
        "# Configuration: vocseg.toml",
        "",
        "Optional. vocseg reads `./vocseg.toml`, or the file given by `--config`. Every key has",
        "a default; an unknown section or key is an error that names it. Generated from",
        "`vocseg/config.py` by `python -m vocseg.config > docs/config.md`.",
        "",
    ]
    current = None
    for section, key, default, help_ in describe():
        if section != current:
            lines += ["", f"## [{section}]", "", "| key | default | meaning |", "| --- | --- | --- |"]
            current = section
        shown = repr(default) if not isinstance(default, str) else f'"{default}"'
        lines.append(f"| `{key}` | `{shown}` | {help_} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(markdown(), end="")
