-- Learning loop (docs/model-card.md, docs/decisions/0053-0055): which detector model version is
-- active, chosen by an admin. Append-only like the audit log: the active version is the result
-- of replaying this table (activate pushes a version, rollback undoes the latest activation).
-- depends: 0002_review

CREATE TABLE model_activations (
    id                bigserial PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT now(),
    actor             text NOT NULL,
    action            text NOT NULL CHECK (action IN ('activate', 'rollback')),
    version           text NOT NULL,          -- the version active after this row
    previous_version  text NOT NULL,          -- the version active before it
    reason            text NOT NULL DEFAULT ''
);
CREATE FUNCTION model_activations_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'model_activations is append-only';
END $$;
CREATE TRIGGER model_activations_no_update BEFORE UPDATE OR DELETE ON model_activations
    FOR EACH ROW EXECUTE FUNCTION model_activations_append_only();

-- Decisions per model version (metrics and the model page read these).
CREATE INDEX case_labels_model_idx ON case_labels (model_version, source);
