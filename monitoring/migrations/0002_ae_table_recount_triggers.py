# The AE table's counts are recounted block by block (site, track, dose level) when what they are
# counted from changes (docs/operations.md §6). PostgreSQL triggers mark what changed in the same
# transaction as the change, whichever code made it (services, the admin, the study generator's
# bulk inserts), so a committed change is either counted or marked. Each change adds marks of its
# own (plain inserts, no shared row): a mark commits with its change or not at all, and a writer
# never waits for another writer or for a recount. SQLite (the `make run` demo) never reads the
# stored counts: the page counts the events there each time.
from django.db import migrations

# Marks name subjects, not blocks: a subject's block is looked up when the recount takes the
# mark, in the recount's own snapshot, because the subject may change block between a change and
# its commit. The functions that insert marks run as the tables' owner (SECURITY DEFINER, with a
# fixed search path), so that a write never fails on the runtime role's grants, even between a
# `migrate` and the `grant_runtime_role` after it.
MARK = """
CREATE OR REPLACE FUNCTION monitoring_ae_table_mark(subject_ids bigint[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO monitoring_aetablerecount (subject_id)
    SELECT DISTINCT id FROM unnest(subject_ids) AS id WHERE id IS NOT NULL
$$;

-- The block a subject leaves, by its row before the change (the block it joins is found from the
-- subject's mark).
CREATE OR REPLACE FUNCTION monitoring_ae_table_mark_block_left(
    site bigint, cohort bigint, track bigint, level bigint) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    INSERT INTO monitoring_aetablerecount (site_id, track_id, dose_level_id)
    SELECT site, COALESCE(track, c.track_id), COALESCE(level, c.dose_level_id)
    FROM trial_cohort c WHERE c.id = cohort
$$;

-- A change that moves subjects between blocks, or changes what a block's subjects' events
-- count as (a cohort, a site's time zone, a term's class), lists the subjects it affects from its
-- own snapshot, which cannot see a dependent change not committed yet (an AE of that term, a
-- subject joining that cohort). It holds the study's recount lock until it commits, taken before
-- it lists them: no recount of the study can then count between the list and the commit, and the
-- list, read after the lock, sees every dependent committed before. Adverse events and doses
-- (the frequent writes) never take it.
CREATE OR REPLACE FUNCTION monitoring_ae_table_hold(study bigint) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(1095062594, study::int)
$$;

CREATE OR REPLACE FUNCTION monitoring_ae_table_mark_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM monitoring_ae_table_mark(ARRAY(SELECT DISTINCT subject_id FROM new_rows));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION monitoring_ae_table_mark_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM monitoring_ae_table_mark(ARRAY(
        SELECT subject_id FROM old_rows UNION SELECT subject_id FROM new_rows));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION monitoring_ae_table_mark_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM monitoring_ae_table_mark(ARRAY(SELECT DISTINCT subject_id FROM old_rows));
    RETURN NULL;
END $$;

-- A subject moved to another study, site or cohort, voided or restored: the subject, and the
-- block it left.
CREATE OR REPLACE FUNCTION monitoring_ae_table_mark_subject() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM monitoring_ae_table_hold(LEAST(OLD.study_id, NEW.study_id));
    PERFORM monitoring_ae_table_hold(GREATEST(OLD.study_id, NEW.study_id));
    PERFORM monitoring_ae_table_mark(ARRAY[NEW.id]);
    PERFORM monitoring_ae_table_mark_block_left(OLD.site_id, OLD.cohort_id, NULL, NULL);
    RETURN NULL;
END $$;

-- A cohort placed on another dose level or track: its subjects, and the blocks they left.
CREATE OR REPLACE FUNCTION monitoring_ae_table_mark_cohort() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM monitoring_ae_table_hold(NEW.study_id);
    PERFORM monitoring_ae_table_mark(ARRAY(
        SELECT id FROM subjects_subject WHERE cohort_id = NEW.id));
    PERFORM monitoring_ae_table_mark_block_left(site_id, NEW.id, OLD.track_id, OLD.dose_level_id)
    FROM (SELECT DISTINCT site_id FROM subjects_subject WHERE cohort_id = NEW.id) AS sites;
    RETURN NULL;
END $$;

-- A site's time zone decides when its subjects' first infusions started, in site time.
CREATE OR REPLACE FUNCTION monitoring_ae_table_mark_site() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM monitoring_ae_table_hold(NEW.study_id);
    PERFORM monitoring_ae_table_mark(ARRAY(
        SELECT id FROM subjects_subject WHERE site_id = NEW.id));
    RETURN NULL;
END $$;

-- A term's system organ class decides the class rows.
CREATE OR REPLACE FUNCTION monitoring_ae_table_mark_term() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM monitoring_ae_table_hold(id) FROM (SELECT id FROM trial_study ORDER BY id) AS study;
    PERFORM monitoring_ae_table_mark(ARRAY(
        SELECT DISTINCT subject_id FROM safety_adverseevent WHERE ctcae_term_id = NEW.id));
    RETURN NULL;
END $$;
"""

# Adverse events and doses: statement triggers (a bulk insert marks each block once).
ROW_SETS = ("safety_adverseevent", "dosing_doseadministration")
TRIGGERS = [
    *(
        f"""
CREATE TRIGGER ae_table_mark_{event.lower()} AFTER {event} ON {table}
REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION monitoring_ae_table_mark_{done}();"""
        for table in ROW_SETS
        for event, refs, done in (
            ("INSERT", "NEW TABLE AS new_rows", "inserted"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows", "updated"),
            ("DELETE", "OLD TABLE AS old_rows", "deleted"),
        )
    ),
    """
CREATE TRIGGER ae_table_mark_subject AFTER UPDATE ON subjects_subject FOR EACH ROW
WHEN (OLD.site_id IS DISTINCT FROM NEW.site_id OR OLD.cohort_id IS DISTINCT FROM NEW.cohort_id
      OR OLD.voided_at IS DISTINCT FROM NEW.voided_at OR OLD.study_id IS DISTINCT FROM NEW.study_id)
EXECUTE FUNCTION monitoring_ae_table_mark_subject();""",
    """
CREATE TRIGGER ae_table_mark_cohort AFTER UPDATE ON trial_cohort FOR EACH ROW
WHEN (OLD.track_id IS DISTINCT FROM NEW.track_id
      OR OLD.dose_level_id IS DISTINCT FROM NEW.dose_level_id)
EXECUTE FUNCTION monitoring_ae_table_mark_cohort();""",
    """
CREATE TRIGGER ae_table_mark_site AFTER UPDATE ON trial_site FOR EACH ROW
WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone)
EXECUTE FUNCTION monitoring_ae_table_mark_site();""",
    """
CREATE TRIGGER ae_table_mark_term AFTER UPDATE ON safety_ctcaeterm FOR EACH ROW
WHEN (OLD.soc IS DISTINCT FROM NEW.soc)
EXECUTE FUNCTION monitoring_ae_table_mark_term();""",
]

# What is already in the database is counted at the first request.
MARK_ALL = """
INSERT INTO monitoring_aetablerecount (subject_id)
SELECT id FROM subjects_subject WHERE cohort_id IS NOT NULL;"""

DROP = [
    *(
        f"DROP TRIGGER IF EXISTS ae_table_mark_{event} ON {table};"
        for table in ROW_SETS
        for event in ("insert", "update", "delete")
    ),
    "DROP TRIGGER IF EXISTS ae_table_mark_subject ON subjects_subject;",
    "DROP TRIGGER IF EXISTS ae_table_mark_cohort ON trial_cohort;",
    "DROP TRIGGER IF EXISTS ae_table_mark_site ON trial_site;",
    "DROP TRIGGER IF EXISTS ae_table_mark_term ON safety_ctcaeterm;",
    *(
        f"DROP FUNCTION IF EXISTS monitoring_ae_table_mark_{name}();"
        for name in ("inserted", "updated", "deleted", "subject", "cohort", "site", "term")
    ),
    "DROP FUNCTION IF EXISTS monitoring_ae_table_mark(bigint[]);",
    "DROP FUNCTION IF EXISTS monitoring_ae_table_hold(bigint);",
    "DROP FUNCTION IF EXISTS monitoring_ae_table_mark_block_left(bigint, bigint, bigint, bigint);",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in [MARK, *TRIGGERS, MARK_ALL]:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0001_ae_table_counts"),
        ("safety", "0010_ae_table_index_emergence"),
        ("dosing", "0003_deviations_and_confirmations"),
        ("subjects", "0007_code_recorded_disposition_reasons"),
        ("trial", "0007_escalationtrack_design"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
