"""Database-level guards that no application path can bypass."""

from django.db.migrations.operations.base import Operation

REFUSE_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION edc_refuse_history_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit history is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


class AppendOnlyHistory(Operation):
    """On PostgreSQL, a trigger that refuses UPDATE and DELETE on a history table.

    21 CFR 11.10(e): the audit trail must not be alterable. The app never edits history rows;
    this makes the database refuse it too, whoever connects. SQLite (the embedded development
    default) has no such guard, which the README says.
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
        table = schema_editor.quote_name(self._table(app_label, to_state))
        schema_editor.execute(REFUSE_FUNCTION_SQL, params=None)
        schema_editor.execute(f"DROP TRIGGER IF EXISTS history_append_only ON {table}")
        schema_editor.execute(
            f"CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION edc_refuse_history_change()"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, from_state))
        schema_editor.execute(f"DROP TRIGGER IF EXISTS history_append_only ON {table}")

    def describe(self):
        return f"Make the history table of {self.model_name} append-only (PostgreSQL)"
