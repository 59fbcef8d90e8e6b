"""Enrich: say how a cached vector was made, the model's pass over the text or the mean of its
sentences' vectors (a long document's, see ``[enrich] whole_text_max_chars``)."""

VERSION = 11
NAME = "embedding_source"

SQL = """
ALTER TABLE embeddings ADD COLUMN source TEXT NOT NULL DEFAULT 'model' CHECK (source IN ('model', 'sentences'));
"""
