-- Rolling back drops the encrypted originals: pseudonymised texts stay in notes.text.
DROP TABLE IF EXISTS anonymous_statistics, erasure_log, retention_runs;
ALTER TABLE api_keys DROP COLUMN IF EXISTS rate_limit_per_minute, DROP COLUMN IF EXISTS scopes;
DROP INDEX IF EXISTS notes_legacy_idx;
DROP INDEX IF EXISTS notes_original_key_idx;
ALTER TABLE notes
    DROP COLUMN IF EXISTS pseudonymiser,
    DROP COLUMN IF EXISTS original_key_id,
    DROP COLUMN IF EXISTS original_ciphertext;
