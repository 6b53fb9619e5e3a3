-- Early warning (docs/early-warning.md): pattern alerts per household and per area.
-- depends: 0001_initial

-- One row per alert (id = the detector's deterministic alert_id). An upgrade from watch to
-- escalate updates the row; replays and lower levels change nothing. Area alerts carry no
-- household identifiers: no subject_key and no note ids (CHECK below).
CREATE TABLE pattern_alerts (
    id                text PRIMARY KEY,
    scope             text NOT NULL CHECK (scope IN ('household', 'area')),
    subject_key       text,
    area_key          text,
    municipality_code text NOT NULL,
    adv_region        text NOT NULL,
    level             text NOT NULL CHECK (level IN ('watch', 'escalate')),
    rule              text NOT NULL,
    note_ids          text[] NOT NULL DEFAULT '{}',
    households        integer,
    ground            text,
    summary           text NOT NULL,
    window_start      timestamptz NOT NULL,
    raised_at         timestamptz NOT NULL,          -- event time of the firing note (latest level)
    first_raised_at   timestamptz NOT NULL,          -- event time of the first level
    ruleset_version   text NOT NULL,
    status            text NOT NULL DEFAULT 'nieuw',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pattern_alerts_scope_keys CHECK (
        (scope = 'household' AND subject_key IS NOT NULL AND area_key IS NULL)
        OR (scope = 'area' AND area_key IS NOT NULL AND subject_key IS NULL
            AND cardinality(note_ids) = 0)
    )
);
-- The ADV queue: escalations first, newest first, per region.
CREATE INDEX pattern_alerts_queue_idx ON pattern_alerts (adv_region, level, raised_at DESC)
    WHERE scope = 'household';
CREATE INDEX pattern_alerts_subject_idx ON pattern_alerts (subject_key) WHERE scope = 'household';
-- The coordinator's view: area alerts of one municipality.
CREATE INDEX pattern_alerts_area_idx ON pattern_alerts (municipality_code, raised_at DESC)
    WHERE scope = 'area';
