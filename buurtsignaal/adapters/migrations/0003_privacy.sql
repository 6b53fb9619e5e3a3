-- Privacy and security by design (docs/privacy.md, docs/decisions/0020-0025).
-- depends: 0001_initial

-- notes.text now holds the PSEUDONYMISED text (what the detector and the review UI see). The
-- original is kept only here, AES-256-GCM encrypted by the application (key id per row, so
-- `buurtsignaal keys rotate` can find rows under an old key). NULL pseudonymiser = a row stored
-- before this migration (plain original in notes.text): `keys rotate` converts those too.
ALTER TABLE notes
    ADD COLUMN original_ciphertext bytea,
    ADD COLUMN original_key_id     text,
    ADD COLUMN pseudonymiser       text;
CREATE INDEX notes_original_key_idx ON notes (original_key_id) WHERE original_ciphertext IS NOT NULL;
CREATE INDEX notes_legacy_idx ON notes (id) WHERE pseudonymiser IS NULL;

-- API keys: scopes and a per-key rate limit (NULL = the configured default).
ALTER TABLE api_keys
    ADD COLUMN scopes                text[] NOT NULL DEFAULT '{notes:write,notes:read}',
    ADD COLUMN rate_limit_per_minute integer CHECK (rate_limit_per_minute > 0);

-- What each retention purge did (counts only, never keys or text).
CREATE TABLE retention_runs (
    id           bigserial PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    dry_run      boolean NOT NULL,
    trigger      text NOT NULL,
    policy       jsonb NOT NULL,
    counts       jsonb NOT NULL DEFAULT '{}'
);

-- Right to erasure: what was removed, under which request reference. The household key itself is
-- not kept (that would keep a trace of the person).
CREATE TABLE erasure_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    reference   text NOT NULL,
    counts      jsonb NOT NULL
);

-- What is left of a case after retention: counts for the yearly monitor by ground and form,
-- without note, household, address or free text.
CREATE TABLE anonymous_statistics (
    id                bigserial PRIMARY KEY,
    month             date NOT NULL,
    municipality_code text NOT NULL,
    adv_region        text NOT NULL,
    status            text NOT NULL,
    level             text NOT NULL,
    severity          smallint NOT NULL,
    grounds           text[] NOT NULL,
    forms             text[] NOT NULL,
    removed_because   text NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
