"""Topics: fitted models, topics, document assignments, representative documents, alerts."""

VERSION = 20
NAME = "topics"

SQL = """
CREATE TABLE topic_models (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    created_at TEXT NOT NULL,
    path TEXT NOT NULL,
    embedding_model TEXT NOT NULL,
    n_documents INTEGER NOT NULL,
    min_size INTEGER NOT NULL,
    threshold REAL NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    is_current INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE topics (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    is_custom_label INTEGER NOT NULL DEFAULT 0,
    keywords TEXT NOT NULL DEFAULT '[]',
    size INTEGER NOT NULL DEFAULT 0,
    need TEXT,
    need_share REAL,
    centroid BLOB,
    model_id INTEGER REFERENCES topic_models(id),
    merged_into INTEGER REFERENCES topics(id),
    is_active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE topic_model_topics (
    model_id INTEGER NOT NULL REFERENCES topic_models(id) ON DELETE CASCADE,
    model_topic INTEGER NOT NULL,
    topic_id INTEGER NOT NULL REFERENCES topics(id),
    PRIMARY KEY (model_id, model_topic)
);
CREATE TABLE document_topics (
    document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    topic_id INTEGER REFERENCES topics(id),
    similarity REAL,
    content_hash TEXT NOT NULL,
    model_id INTEGER REFERENCES topic_models(id),
    run_id INTEGER REFERENCES runs(id),
    assigned_at TEXT NOT NULL
);
CREATE INDEX idx_document_topics_topic ON document_topics(topic_id);
CREATE TABLE topic_representatives (
    topic_id INTEGER NOT NULL REFERENCES topics(id) ON DELETE CASCADE,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    similarity REAL,
    PRIMARY KEY (topic_id, document_id)
);
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('rise', 'sentiment_drop', 'emerging')),
    topic_id INTEGER REFERENCES topics(id) ON DELETE SET NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'posted', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    posted_at TEXT
);
"""
