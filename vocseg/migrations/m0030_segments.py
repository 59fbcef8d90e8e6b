"""Segments: customer features, segments, membership history and the CRM sync log."""

VERSION = 30
NAME = "segments"

SQL = """
CREATE TABLE customer_features (
    customer_id INTEGER PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
    run_id INTEGER REFERENCES runs(id),
    computed_at TEXT NOT NULL,
    voice_key TEXT,
    n_feedback INTEGER NOT NULL DEFAULT 0,
    first_feedback_at TEXT,
    last_feedback_at TEXT,
    satisfaction REAL,
    sentiment REAL,
    rating REAL,
    satisfaction_class TEXT CHECK (satisfaction_class IN ('happy', 'neutral', 'unhappy')),
    nps_score INTEGER,
    nps_class TEXT CHECK (nps_class IN ('promoter', 'passive', 'detractor')),
    needs TEXT NOT NULL DEFAULT '{}',
    top_need TEXT,
    intents TEXT NOT NULL DEFAULT '{}',
    complaint_share REAL,
    praise_share REAL,
    request_share REAL,
    topics TEXT NOT NULL DEFAULT '{}',
    top_topic TEXT,
    n_transactions INTEGER NOT NULL DEFAULT 0,
    first_purchase_at TEXT,
    last_purchase_at TEXT,
    recency_days REAL,
    frequency INTEGER,
    monetary REAL,
    tenure_days REAL,
    trend REAL,
    clv REAL,
    r_score INTEGER,
    f_score INTEGER,
    m_score INTEGER,
    rfm_segment TEXT
);
CREATE INDEX idx_customer_features_class ON customer_features(satisfaction_class, rfm_segment);
CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('satisfaction', 'rfm', 'cohort', 'cluster', 'custom')),
    label TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    definition TEXT NOT NULL DEFAULT '{}',
    profile TEXT NOT NULL DEFAULT '{}',
    size INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1,
    run_id INTEGER REFERENCES runs(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE segment_memberships (
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    run_id INTEGER REFERENCES runs(id),
    PRIMARY KEY (segment_id, customer_id, valid_from)
);
CREATE INDEX idx_segment_memberships_open ON segment_memberships(segment_id, valid_to);
CREATE INDEX idx_segment_memberships_customer ON segment_memberships(customer_id);
CREATE TABLE cohort_sync_log (
    id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    cohort TEXT NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    action TEXT NOT NULL CHECK (action IN ('join', 'leave')),
    batch_key TEXT NOT NULL,
    synced_at TEXT NOT NULL
);
CREATE INDEX idx_cohort_sync_log_target ON cohort_sync_log(target, cohort, customer_id);
"""
