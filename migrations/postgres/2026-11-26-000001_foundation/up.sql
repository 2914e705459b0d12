-- Foundation schema: reference data, enterprises, products, standards, users, audit.
-- Keep in step with migrations/sqlite: same tables, columns, constraints (tests run on both).
-- Ids are UUIDv7 as text; timestamps are UTC (TIMESTAMP without zone); enumerations are checked text.

CREATE TABLE regions (
    code        TEXT PRIMARY KEY CHECK (length(code) = 6),
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('province', 'prefecture', 'county')),
    parent_code TEXT REFERENCES regions (code),
    alias_of    TEXT REFERENCES regions (code)
);

CREATE TABLE agencies (
    code    TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE agency_responsibilities (
    agency_code      TEXT NOT NULL REFERENCES agencies (code),
    application_kind TEXT NOT NULL,
    PRIMARY KEY (agency_code, application_kind)
);
CREATE UNIQUE INDEX agency_responsibilities_kind ON agency_responsibilities (application_kind);

CREATE TABLE sectors (
    code    TEXT PRIMARY KEY,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE categories (
    code        TEXT PRIMARY KEY,
    sector_code TEXT NOT NULL REFERENCES sectors (code),
    name_zh     TEXT NOT NULL,
    name_en     TEXT NOT NULL
);

CREATE TABLE standard_prefixes (
    prefix  TEXT PRIMARY KEY,
    level   TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE standards (
    id             TEXT PRIMARY KEY,
    code           TEXT NOT NULL UNIQUE,
    prefix         TEXT NOT NULL,
    number         TEXT NOT NULL,
    year           INTEGER,
    title_zh       TEXT NOT NULL,
    title_en       TEXT,
    level          TEXT NOT NULL CHECK (level IN ('national_mandatory', 'national_recommended', 'national_guidance',
                       'industry', 'local', 'group', 'enterprise', 'international', 'foreign', 'other')),
    status         TEXT NOT NULL CHECK (status IN ('current', 'superseded', 'withdrawn')),
    replaced_by_id TEXT REFERENCES standards (id),
    effective_on   DATE,
    source         TEXT,
    confidence     TEXT,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX standards_level ON standards (level, id);
CREATE INDEX standards_status ON standards (status, id);

CREATE TABLE plan_targets (
    year           INTEGER NOT NULL,
    code           TEXT NOT NULL,
    sector_code    TEXT NOT NULL DEFAULT '',
    target         BIGINT NOT NULL,
    unit           TEXT NOT NULL CHECK (unit IN ('count', 'percent')),
    description_zh TEXT NOT NULL,
    description_en TEXT NOT NULL,
    PRIMARY KEY (year, code, sector_code)
);

CREATE TABLE enterprises (
    id                    TEXT PRIMARY KEY,
    uscc                  TEXT NOT NULL UNIQUE,
    uscc_override_reason  TEXT,
    name                  TEXT NOT NULL,
    legal_representative  TEXT NOT NULL,
    region_code           TEXT NOT NULL REFERENCES regions (code),
    address               TEXT NOT NULL,
    scale                 TEXT NOT NULL CHECK (scale IN ('large', 'medium', 'small', 'micro')),
    above_designated_size BOOLEAN NOT NULL DEFAULT FALSE,
    contact_phone         TEXT NOT NULL,
    contact_email         TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('pending', 'active', 'suspended', 'deregistered')),
    verified_at           TIMESTAMP,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    version               INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX enterprises_status ON enterprises (status, id);
CREATE INDEX enterprises_region ON enterprises (region_code, id);

CREATE TABLE enterprise_sectors (
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    sector_code   TEXT NOT NULL REFERENCES sectors (code),
    PRIMARY KEY (enterprise_id, sector_code)
);
CREATE INDEX enterprise_sectors_sector ON enterprise_sectors (sector_code, enterprise_id);

CREATE TABLE products (
    id                 TEXT PRIMARY KEY,
    enterprise_id      TEXT NOT NULL REFERENCES enterprises (id),
    name               TEXT NOT NULL,
    brand              TEXT NOT NULL,
    gtin               TEXT UNIQUE,
    sector_code        TEXT NOT NULL REFERENCES sectors (code),
    category_code      TEXT NOT NULL REFERENCES categories (code),
    origin_region_code TEXT NOT NULL REFERENCES regions (code),
    ingredients        TEXT NOT NULL,
    suitable_for       TEXT,
    unsuitable_for     TEXT,
    is_new_product     BOOLEAN NOT NULL DEFAULT FALSE,
    launched_on        DATE,
    status             TEXT NOT NULL CHECK (status IN ('active', 'discontinued')),
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    version            INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX products_enterprise ON products (enterprise_id, id);
CREATE INDEX products_sector ON products (sector_code, id);
CREATE INDEX products_region ON products (origin_region_code, id);

CREATE TABLE product_standards (
    product_id  TEXT NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    standard_id TEXT NOT NULL REFERENCES standards (id),
    declared_on DATE NOT NULL,
    PRIMARY KEY (product_id, standard_id)
);
CREATE INDEX product_standards_standard ON product_standards (standard_id, product_id);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'regulator', 'enterprise')),
    agency_code   TEXT REFERENCES agencies (code),
    enterprise_id TEXT REFERENCES enterprises (id),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    CHECK ((role = 'regulator') = (agency_code IS NOT NULL)),
    CHECK ((role = 'enterprise') = (enterprise_id IS NOT NULL))
);
CREATE INDEX users_enterprise ON users (enterprise_id);

CREATE TABLE refresh_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at    TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- Append-only. Each entry's hash covers the previous entry's hash (a chain), and the single
-- audit_head row is updated first in every write transaction, so writers are serialised and the
-- chain has one order on both backends.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    actor_id    TEXT,
    actor_label TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    before      TEXT,
    after       TEXT,
    reason      TEXT,
    request_id  TEXT,
    created_at  TIMESTAMP NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id, seq);

CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seq       BIGINT NOT NULL,
    hash      TEXT NOT NULL,
    locked_at TIMESTAMP
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
