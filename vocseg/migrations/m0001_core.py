"""Core tables: sources, customers, identities, documents, transactions, runs, quarantine."""

VERSION = 1
NAME = "core"

SQL = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    command TEXT NOT NULL,
    arguments TEXT NOT NULL DEFAULT '{}',
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed')),
    counts TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT,
    location TEXT,
    preset TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    external_id TEXT UNIQUE,
    email TEXT,
    name TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    first_seen TEXT,
    last_seen TEXT
);
CREATE TABLE identities (
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (kind, value)
);
CREATE INDEX idx_identities_customer ON identities(customer_id);
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id),
    kind TEXT NOT NULL CHECK (kind IN ('review', 'chat', 'social', 'survey', 'ticket', 'other')),
    external_id TEXT NOT NULL,
    conversation_id TEXT,
    turn INTEGER,
    role TEXT CHECK (role IN ('customer', 'agent')),
    customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    author TEXT,
    title TEXT,
    text TEXT NOT NULL,
    created_at TEXT,
    rating_raw TEXT,
    rating REAL CHECK (rating IS NULL OR (rating >= 0 AND rating <= 1)),
    language TEXT,
    channel TEXT,
    url TEXT,
    content_hash TEXT NOT NULL,
    run_id INTEGER REFERENCES runs(id),
    UNIQUE (source_id, external_id)
);
CREATE INDEX idx_documents_customer ON documents(customer_id);
CREATE INDEX idx_documents_created ON documents(created_at);
CREATE INDEX idx_documents_hash ON documents(content_hash);
CREATE INDEX idx_documents_conversation ON documents(conversation_id);
CREATE TABLE transactions (
    id INTEGER PRIMARY KEY,
    source_id INTEGER REFERENCES sources(id),
    customer_id INTEGER REFERENCES customers(id) ON DELETE CASCADE,
    external_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    amount REAL NOT NULL,
    currency TEXT,
    quantity REAL,
    product TEXT,
    channel TEXT,
    run_id INTEGER REFERENCES runs(id),
    UNIQUE (source_id, external_id)
);
CREATE INDEX idx_transactions_customer ON transactions(customer_id, occurred_at);
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    file TEXT NOT NULL,
    line INTEGER,
    reason TEXT NOT NULL,
    raw TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_quarantine_run ON quarantine(run_id);
"""
