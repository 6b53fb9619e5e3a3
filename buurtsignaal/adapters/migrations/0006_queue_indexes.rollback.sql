-- depends: 0005_learning
DROP INDEX IF EXISTS cases_open_queue_idx;
DROP INDEX IF EXISTS cases_region_municipality_idx;
DROP INDEX IF EXISTS cases_escalated_queue_idx;
DROP INDEX IF EXISTS pattern_alerts_household_queue_idx;
DROP INDEX IF EXISTS audit_log_case_idx;
DROP INDEX IF EXISTS audit_log_actor_idx;
