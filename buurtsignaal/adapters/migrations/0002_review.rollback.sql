-- depends: 0001_initial
ALTER TABLE sessions DROP COLUMN IF EXISTS last_seen_at;
DROP TABLE IF EXISTS notifications, case_labels, case_transitions;
DROP INDEX IF EXISTS cases_municipality_idx, cases_subject_idx;
ALTER TABLE cases
    DROP CONSTRAINT IF EXISTS cases_status_check,
    DROP CONSTRAINT IF EXISTS cases_consent_check,
    DROP CONSTRAINT IF EXISTS cases_consent_reason_check,
    DROP COLUMN IF EXISTS consent_reason,
    DROP COLUMN IF EXISTS consent_recorded_by,
    DROP COLUMN IF EXISTS consent_confirmed_by,
    DROP COLUMN IF EXISTS summary,
    DROP COLUMN IF EXISTS first_reviewed_at,
    DROP COLUMN IF EXISTS escalated_at,
    DROP COLUMN IF EXISTS escalated_by,
    DROP COLUMN IF EXISTS acknowledged_at,
    DROP COLUMN IF EXISTS acknowledged_by,
    DROP COLUMN IF EXISTS closed_at,
    DROP COLUMN IF EXISTS coordinator_actions,
    DROP COLUMN IF EXISTS coordinator_note;
