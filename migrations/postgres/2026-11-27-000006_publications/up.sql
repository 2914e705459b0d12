-- The change feed's source: one row each time something becomes public or public data changes,
-- written in the same transaction as the change. Sequence numbers are assigned under the write
-- lock every transaction takes first, so their order is commit order.
CREATE TABLE publications (
    seq         BIGINT PRIMARY KEY,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    action      TEXT NOT NULL,
    at          TIMESTAMP NOT NULL
);
CREATE INDEX publications_type ON publications (entity_type, seq);
