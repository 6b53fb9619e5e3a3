DROP TABLE IF EXISTS sessions, audit_log, users, cases, note_scores, outbox, notes, api_keys, tenants CASCADE;
DROP SEQUENCE IF EXISTS case_number_seq;
DROP FUNCTION IF EXISTS audit_log_is_append_only();
