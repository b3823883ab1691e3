"""Database-level guards that no application path can bypass.

Two layers on PostgreSQL (SQLite, the embedded development default, has neither; the README
says so):

- Triggers on every history table refuse UPDATE, DELETE (row by row) and TRUNCATE, whoever
  connects: the audit trail is append-only (21 CFR 11.10(e)).
- The app runs as a database role that owns nothing (`runtime_role_statements`): it may read,
  insert and update the clinical tables, only read and insert the history tables, and delete
  only rows that are not records (sessions, login-failure counters, link rows of roles and
  sites). Not owning the tables, it cannot disable the triggers, truncate, or switch to
  `session_replication_role = replica` (reserved to superusers). Migrations run as the owner.
"""

from django.db.migrations.operations.base import Operation

REFUSE_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION edc_refuse_history_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit history is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

ROW_TRIGGER = "history_append_only"
TRUNCATE_TRIGGER = "history_no_truncate"


def is_history_table(model) -> bool:
    """simple-history's models (and their many-to-many snapshots) are named Historical*."""
    return model.__name__.startswith("Historical")


def _create_triggers(schema_editor, table: str, *, rows: bool = True) -> None:
    quoted = schema_editor.quote_name(table)
    schema_editor.execute(REFUSE_FUNCTION_SQL, params=None)
    if rows:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {ROW_TRIGGER} ON {quoted}")
        schema_editor.execute(
            f"CREATE TRIGGER {ROW_TRIGGER} BEFORE UPDATE OR DELETE ON {quoted} "
            "FOR EACH ROW EXECUTE FUNCTION edc_refuse_history_change()"
        )
    # Row triggers never see TRUNCATE; a statement trigger does.
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON {quoted}")
    schema_editor.execute(
        f"CREATE TRIGGER {TRUNCATE_TRIGGER} BEFORE TRUNCATE ON {quoted} "
        "FOR EACH STATEMENT EXECUTE FUNCTION edc_refuse_history_change()"
    )


def _drop_triggers(schema_editor, table: str, names=(ROW_TRIGGER, TRUNCATE_TRIGGER)) -> None:
    quoted = schema_editor.quote_name(table)
    for name in names:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {quoted}")


class AppendOnlyHistory(Operation):
    """On PostgreSQL, triggers that refuse UPDATE, DELETE and TRUNCATE on a history table.

    21 CFR 11.10(e): the audit trail must not be alterable. The app never edits history rows;
    this makes the database refuse it too, whoever connects. Use it in the migration that
    creates a history table.
    """

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str):
        self.model_name = model_name

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.model_name], {})

    def state_forwards(self, app_label, state):
        pass

    def _table(self, app_label, state):
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        _create_triggers(schema_editor, self._table(app_label, to_state))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        _drop_triggers(schema_editor, self._table(app_label, from_state))

    def describe(self):
        return f"Make the history table of {self.model_name} append-only (PostgreSQL)"


class HistoryRefusesTruncate(Operation):
    """On PostgreSQL, the TRUNCATE trigger on every history table that exists at this point of
    the migrations (the tables made before AppendOnlyHistory refused TRUNCATE too)."""

    reversible = True
    reduces_to_sql = True

    def deconstruct(self):
        return (self.__class__.__qualname__, [], {})

    def state_forwards(self, app_label, state):
        pass

    @staticmethod
    def _tables(state) -> list[str]:
        return sorted(m._meta.db_table for m in state.apps.get_models() if is_history_table(m))

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in self._tables(to_state):
            _create_triggers(schema_editor, table, rows=False)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table in self._tables(from_state):
            _drop_triggers(schema_editor, table, names=(TRUNCATE_TRIGGER,))

    def describe(self):
        return "Refuse TRUNCATE on every history table (PostgreSQL)"


# --- The runtime role -------------------------------------------------------------------------

# Tables whose rows the app deletes: none is a record. Sessions end (sign-out, idle, a locked
# account); django-axes clears login-failure counters (a successful sign-in, an unlock); a
# recovery code of two-factor sign-in is used up once (django-otp deletes it); link
# rows of many-to-many fields (a membership's sites, a group's permissions) are replaced when
# they change, the change itself kept in the history tables. The AE table's stored counts and
# recount marks are derived data, replaced when recounted from the records (docs/operations.md
# §6).
DELETABLE_TABLE_PREFIXES = (
    "django_session",
    "axes_",
    "otp_static_statictoken",
    "monitoring_aetablecount",
    "monitoring_aetablerecount",
)


def deletable(model) -> bool:
    table = model._meta.db_table
    return table.startswith(DELETABLE_TABLE_PREFIXES) or (
        model._meta.auto_created and not is_history_table(model)  # many-to-many link rows
    )


def runtime_role_statements(role: str, *, quote, models, database: str) -> list[str]:
    """The GRANTs that give `role` what the app needs and nothing more, on the given models'
    tables (REVOKE first, so re-running after a migration also takes back what is no longer
    needed). `quote`: the connection's identifier quoting."""
    r = quote(role)
    statements = [
        f"GRANT CONNECT ON DATABASE {quote(database)} TO {r}",
        f"GRANT USAGE ON SCHEMA public TO {r}",
        f"REVOKE CREATE ON SCHEMA public FROM {r}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {r}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {r}",
    ]
    for model in sorted(models, key=lambda m: m._meta.db_table):
        if model._meta.proxy or not model._meta.managed:
            continue
        table = quote(model._meta.db_table)
        if is_history_table(model):
            rights = "SELECT, INSERT"
        elif deletable(model):
            rights = "SELECT, INSERT, UPDATE, DELETE"
        else:
            rights = "SELECT, INSERT, UPDATE"
        statements.append(f"GRANT {rights} ON {table} TO {r}")
    statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}")
    return statements
