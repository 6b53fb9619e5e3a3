-- Buurtsignaal initial schema: tenants and API keys, notes, outbox, scores, cases, users.
-- PostgreSQL is the system of record; the broker only carries copies (see docs/decisions/0002).

CREATE TABLE tenants (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    tenant_id   text NOT NULL REFERENCES tenants(id),
    prefix      text NOT NULL,
    key_hash    text NOT NULL UNIQUE,            -- sha256 of the full key; the key itself is never stored
    label       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz
);

CREATE TABLE notes (
    id                uuid PRIMARY KEY,
    tenant_id         text NOT NULL REFERENCES tenants(id),
    external_id       text NOT NULL,
    occurred_at       timestamptz NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now(),
    author_role       text NOT NULL,
    text              text NOT NULL,
    category          text,
    postcode          text NOT NULL,
    house_number      integer NOT NULL,
    house_suffix      text NOT NULL DEFAULT '',
    postcode_area     text NOT NULL,
    municipality_code text NOT NULL,
    subject_key       text NOT NULL,
    area_key          text NOT NULL,
    source            text NOT NULL,
    correlation_id    text NOT NULL,
    UNIQUE (tenant_id, external_id)
);
CREATE INDEX notes_subject_idx ON notes (subject_key, occurred_at);
CREATE INDEX notes_received_idx ON notes (received_at);

-- Transactional outbox: written in the same transaction as the note, published by the relay.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text NOT NULL,
    key         text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE sent_at IS NULL;

-- One row per scored note (idempotent upsert by note id).
CREATE TABLE note_scores (
    note_id        uuid PRIMARY KEY REFERENCES notes(id) ON DELETE CASCADE,
    flag           boolean NOT NULL,
    score          double precision NOT NULL,
    grounds        text[] NOT NULL,
    forms          text[] NOT NULL,
    severity       smallint NOT NULL,
    evidence       jsonb NOT NULL,
    model_version  text NOT NULL,
    scored_at      timestamptz NOT NULL,
    stored_at      timestamptz NOT NULL DEFAULT now()
);

-- A review case for every flagged note (idempotent by note id).
CREATE SEQUENCE case_number_seq;
CREATE TABLE cases (
    id                bigint PRIMARY KEY DEFAULT nextval('case_number_seq'),
    note_id           uuid NOT NULL UNIQUE REFERENCES notes(id) ON DELETE CASCADE,
    subject_key       text NOT NULL,
    municipality_code text NOT NULL,
    adv_region        text NOT NULL,
    status            text NOT NULL DEFAULT 'nieuw',
    level             text NOT NULL DEFAULT 'signaal',
    severity          smallint NOT NULL,
    score             double precision NOT NULL,
    grounds           text[] NOT NULL,
    forms             text[] NOT NULL,
    model_version     text NOT NULL,
    consent           text NOT NULL DEFAULT 'onbekend',
    version           integer NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_queue_idx ON cases (adv_region, status, severity DESC, created_at);

CREATE TABLE users (
    id              bigserial PRIMARY KEY,
    username        text NOT NULL UNIQUE,
    password_hash   text NOT NULL,
    role            text NOT NULL CHECK (role IN ('adv_medewerker', 'coordinator', 'beheerder')),
    adv_region      text,
    municipalities  text[] NOT NULL DEFAULT '{}',
    disabled        boolean NOT NULL DEFAULT false,
    failed_logins   integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Append-only audit trail of every view of a case and every action.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    case_id     bigint,
    detail      jsonb NOT NULL DEFAULT '{}'
);
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();

-- Server-side sessions for the review UI: revocable, with expiry; the cookie holds only a random id.
CREATE TABLE sessions (
    token_hash  text PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
