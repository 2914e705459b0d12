-- The n-gram index behind `q` (see src/search.rs): one document per product or enterprise,
-- its grams as hex tokens, indexed by FTS5 (external content; the triggers keep it in step).
-- Documents are written by the service; rows that predate this migration are indexed when the
-- service starts. `doc` is an INTEGER PRIMARY KEY so the rowid FTS5 refers to never changes.
CREATE TABLE search_docs (
    doc        INTEGER PRIMARY KEY,
    entity     TEXT NOT NULL CHECK (entity IN ('product', 'enterprise')),
    entity_id  TEXT NOT NULL,
    grams      TEXT NOT NULL,
    UNIQUE (entity, entity_id)
);
CREATE VIRTUAL TABLE search_index USING fts5(
    grams, content = 'search_docs', content_rowid = 'doc', tokenize = 'ascii', detail = 'none'
);
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_index (rowid, grams) VALUES (new.doc, new.grams);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_index (search_index, rowid, grams) VALUES ('delete', old.doc, old.grams);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_index (search_index, rowid, grams) VALUES ('delete', old.doc, old.grams);
    INSERT INTO search_index (rowid, grams) VALUES (new.doc, new.grams);
END;
