"""Ingest bookkeeping: document attributes (product, extra columns), reply links for
threading, and one quarantine row per (file, line, reason) so re-ingesting a file does
not repeat its quarantined rows."""

VERSION = 2
NAME = "ingest"

SQL = """
CREATE TABLE document_attributes (
    document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    product TEXT,
    attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX idx_document_attributes_product ON document_attributes(product);
CREATE TABLE document_replies (
    document_id INTEGER PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    reply_to TEXT NOT NULL
);
CREATE INDEX idx_document_replies_reply_to ON document_replies(reply_to);
DELETE FROM quarantine WHERE id NOT IN (SELECT MIN(id) FROM quarantine GROUP BY file, line, reason);
CREATE UNIQUE INDEX idx_quarantine_row ON quarantine(file, line, reason);
"""
