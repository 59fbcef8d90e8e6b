"""Enrich tables: embeddings cache, sentences, aspects, entities, sentiment, needs, intents.

Every row derived from a document references it with ON DELETE CASCADE, so
``vocseg forget`` erases it; the ``embeddings`` cache is keyed by content hash, and a
trigger drops the vectors of a deleted document's texts that nothing else uses.
"""

VERSION = 10
NAME = "enrich"

SQL = """
CREATE TABLE embeddings (
    content_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (content_hash, model)
) WITHOUT ROWID;
CREATE TABLE enrichments (
    document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    content_hash TEXT NOT NULL,
    run_id INTEGER REFERENCES runs(id),
    enriched_at TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    n_sentences INTEGER NOT NULL DEFAULT 0,
    n_aspects INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_enrichments_run ON enrichments(run_id);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    lemmas TEXT NOT NULL DEFAULT '',
    noun_chunks TEXT NOT NULL DEFAULT '[]',
    sentiment_score REAL CHECK (sentiment_score IS NULL OR (sentiment_score >= -1 AND sentiment_score <= 1)),
    sentiment_label TEXT CHECK (sentiment_label IS NULL OR sentiment_label IN ('negative', 'neutral', 'positive')),
    intent TEXT CHECK (intent IS NULL OR intent IN ('complaint', 'praise', 'request', 'question')),
    UNIQUE (document_id, idx)
);
CREATE INDEX idx_sentences_hash ON sentences(content_hash);
CREATE TABLE aspects (
    id INTEGER PRIMARY KEY,
    sentence_id INTEGER NOT NULL REFERENCES sentences(id) ON DELETE CASCADE,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    aspect TEXT NOT NULL,
    text TEXT NOT NULL,
    opinion TEXT NOT NULL,
    is_negated INTEGER NOT NULL DEFAULT 0,
    sentiment_score REAL NOT NULL CHECK (sentiment_score >= -1 AND sentiment_score <= 1),
    sentiment_label TEXT NOT NULL CHECK (sentiment_label IN ('negative', 'neutral', 'positive')),
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL
);
CREATE INDEX idx_aspects_document ON aspects(document_id);
CREATE INDEX idx_aspects_sentence ON aspects(sentence_id);
CREATE INDEX idx_aspects_aspect ON aspects(aspect);
CREATE TABLE entities (
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    sentence_id INTEGER NOT NULL REFERENCES sentences(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    label TEXT NOT NULL,
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL
);
CREATE INDEX idx_entities_document ON entities(document_id);
CREATE TABLE document_sentiment (
    document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    score REAL NOT NULL CHECK (score >= -1 AND score <= 1),
    label TEXT NOT NULL CHECK (label IN ('negative', 'neutral', 'positive')),
    p_negative REAL NOT NULL,
    p_neutral REAL NOT NULL,
    p_positive REAL NOT NULL,
    satisfaction REAL NOT NULL CHECK (satisfaction >= 0 AND satisfaction <= 1),
    has_rating INTEGER NOT NULL DEFAULT 0,
    is_customer_voice INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE needs (
    name TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    description TEXT NOT NULL,
    examples TEXT NOT NULL DEFAULT '[]',
    threshold REAL NOT NULL,
    taxonomy_hash TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE sentence_needs (
    sentence_id INTEGER NOT NULL REFERENCES sentences(id) ON DELETE CASCADE,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    need TEXT NOT NULL,
    similarity REAL NOT NULL,
    PRIMARY KEY (sentence_id, need)
);
CREATE INDEX idx_sentence_needs_document ON sentence_needs(document_id);
CREATE INDEX idx_sentence_needs_need ON sentence_needs(need);
CREATE TABLE document_needs (
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    need TEXT NOT NULL,
    weight REAL NOT NULL,
    n_sentences INTEGER NOT NULL,
    similarity REAL NOT NULL,
    sentiment_score REAL,
    PRIMARY KEY (document_id, need)
);
CREATE INDEX idx_document_needs_need ON document_needs(need);
CREATE TRIGGER trg_documents_drop_embeddings BEFORE DELETE ON documents
BEGIN
    DELETE FROM embeddings
    WHERE content_hash IN (
        SELECT OLD.content_hash
        UNION SELECT content_hash FROM sentences WHERE document_id = OLD.id
    )
    AND NOT EXISTS (SELECT 1 FROM documents d
                    WHERE d.content_hash = embeddings.content_hash AND d.id != OLD.id)
    AND NOT EXISTS (SELECT 1 FROM sentences x
                    WHERE x.content_hash = embeddings.content_hash AND x.document_id != OLD.id);
END;
CREATE VIEW enriched_documents AS
SELECT
    d.id AS document_id,
    d.kind,
    d.role,
    d.customer_id,
    d.created_at,
    d.rating,
    d.text,
    s.score AS sentiment_score,
    s.label AS sentiment_label,
    s.satisfaction,
    s.is_customer_voice,
    (SELECT group_concat(n.need, ', ') FROM document_needs n WHERE n.document_id = d.id) AS needs,
    (SELECT group_concat(a.aspect || ' (' || a.sentiment_label || ')', ', ')
       FROM aspects a WHERE a.document_id = d.id) AS aspects,
    (SELECT group_concat(DISTINCT x.intent) FROM sentences x WHERE x.document_id = d.id) AS intents,
    e.n_sentences,
    e.run_id,
    e.enriched_at
FROM documents d
JOIN enrichments e ON e.document_id = d.id AND e.content_hash = d.content_hash
LEFT JOIN document_sentiment s ON s.document_id = d.id;
"""
