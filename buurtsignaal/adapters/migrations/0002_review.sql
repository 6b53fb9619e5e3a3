-- depends: 0001_initial
-- Review workflow: transitions with who/when/why, consent, corrections as training labels,
-- coordinator acknowledgement and actions, notifications (outbox with retries and dead letters),
-- session idle expiry. See docs/decisions/0010-0013.

ALTER TABLE cases
    ADD COLUMN consent_reason        text NOT NULL DEFAULT '',
    ADD COLUMN consent_recorded_by   text,
    ADD COLUMN consent_confirmed_by  text,
    ADD COLUMN summary               text NOT NULL DEFAULT '',   -- shared with the coordinator
    ADD COLUMN first_reviewed_at     timestamptz,
    ADD COLUMN escalated_at          timestamptz,
    ADD COLUMN escalated_by          text,
    ADD COLUMN acknowledged_at       timestamptz,
    ADD COLUMN acknowledged_by       text,
    ADD COLUMN closed_at             timestamptz,
    ADD COLUMN coordinator_actions   text[] NOT NULL DEFAULT '{}',
    ADD COLUMN coordinator_note      text NOT NULL DEFAULT '',
    ADD CONSTRAINT cases_status_check CHECK (status IN ('nieuw', 'in_behandeling', 'bevestigd',
        'afgewezen', 'meer_informatie_nodig', 'geescaleerd', 'afgehandeld')),
    ADD CONSTRAINT cases_consent_check CHECK (consent IN ('onbekend', 'gegeven', 'geweigerd',
        'niet_nodig')),
    ADD CONSTRAINT cases_consent_reason_check CHECK (consent <> 'niet_nodig' OR consent_reason <> '');
CREATE INDEX cases_municipality_idx ON cases (municipality_code, status);
CREATE INDEX cases_subject_idx ON cases (subject_key);

-- Every status change: who, when, why (append-only like the audit log).
CREATE TABLE case_transitions (
    id           bigserial PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    from_status  text NOT NULL,
    to_status    text NOT NULL,
    actor        text NOT NULL,
    reason       text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_transitions_case_idx ON case_transitions (case_id, id);

-- Reviewer judgements as labels for training the detector, with the model version judged.
CREATE TABLE case_labels (
    id                  bigserial PRIMARY KEY,
    case_id             bigint NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    note_id             uuid NOT NULL,
    source              text NOT NULL CHECK (source IN ('correctie', 'besluit')),
    is_discrimination   boolean,                  -- NULL: a correction without a verdict yet
    grounds             text[] NOT NULL,
    forms               text[] NOT NULL,
    severity            smallint NOT NULL,
    predicted_grounds   text[] NOT NULL,
    predicted_forms     text[] NOT NULL,
    predicted_severity  smallint NOT NULL,
    model_version       text NOT NULL,
    labelled_by         text NOT NULL,
    at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_labels_case_idx ON case_labels (case_id);

-- Messages to receivers (e-mail, webhook): the scheduler's memory for dedup, grouping and
-- reminders, and an outbox with retries; status 'dead' is the dead-letter record.
-- Holds no personal data: case numbers, labels and a link only.
CREATE TABLE notifications (
    id               bigserial PRIMARY KEY,
    kind             text NOT NULL,
    event            text NOT NULL,
    receiver         text NOT NULL,
    channel          text NOT NULL CHECK (channel IN ('email', 'webhook')),
    group_key        text NOT NULL,
    case_ids         bigint[] NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz
);
CREATE INDEX notifications_pending_idx ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_cases_idx ON notifications USING gin (case_ids);

ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
