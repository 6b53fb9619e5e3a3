-- depends: 0002_review
DROP INDEX IF EXISTS case_labels_model_idx;
DROP TABLE IF EXISTS model_activations;
DROP FUNCTION IF EXISTS model_activations_append_only();
