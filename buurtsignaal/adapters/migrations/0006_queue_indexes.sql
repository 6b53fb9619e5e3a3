-- Indexes that keep the review pages fast however many notes are stored (docs/performance.md,
-- "How cost grows with stored data"; docs/decisions/0034-0036). Each one matches the WHERE and the
-- ORDER BY of one page query in buurtsignaal/adapters/{cases_repo,alerts_repo}.py, so the page is
-- read in order from the index and a keyset cursor is one index range condition. If you change
-- the order of a page, change its index here (in a new migration) too.
-- Plain CREATE INDEX (in the migration's transaction): it blocks writes to the table while it
-- builds, about a second for cases at 1M stored notes. Larger installations: see decision 0035.
-- depends: 0005_learning

-- Werkvoorraad: open cases of one region in queue order (pattern alerts first, then most severe,
-- then oldest, id as the unique tiebreaker). Only open cases: the index stays as small as the
-- work at hand, however many closed cases accumulate. The status list is OPEN_STATUSES in
-- buurtsignaal/domain/cases.py; queries spell it out literally so the planner can match it.
CREATE INDEX cases_open_queue_idx
    ON cases (adv_region, (level <> 'patroon'), (-severity), created_at, id)
    WHERE status IN ('nieuw', 'in_behandeling', 'meer_informatie_nodig', 'bevestigd');

-- The municipality filter of the Werkvoorraad: distinct municipalities of a region, read with a
-- skip scan (one index probe per municipality) instead of scanning every case of the region.
CREATE INDEX cases_region_municipality_idx ON cases (adv_region, municipality_code);

-- Escalaties (coordinator): escalated cases of one municipality in the page's order (open
-- escalations first, not yet acknowledged first, most severe, oldest, id).
CREATE INDEX cases_escalated_queue_idx
    ON cases (municipality_code, (status <> 'geescaleerd'), (acknowledged_at IS NOT NULL),
              (-severity), escalated_at, id)
    WHERE escalated_at IS NOT NULL;

-- Patroonsignalen on the Werkvoorraad: household alerts of a region, escalate before watch,
-- newest first.
CREATE INDEX pattern_alerts_household_queue_idx
    ON pattern_alerts (adv_region, (level = 'escalate') DESC, raised_at DESC, id)
    WHERE scope = 'household';

-- Auditlog filtered by case or by user, newest first (the unfiltered log pages by its primary
-- key). Without these a filter walks the whole log backwards.
CREATE INDEX audit_log_case_idx ON audit_log (case_id, id) WHERE case_id IS NOT NULL;
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
