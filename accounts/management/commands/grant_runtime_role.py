"""Create (if needed) the PostgreSQL role the app runs as, and grant it exactly what it needs.

Run it as the tables' owner, after every `migrate` (new tables get their grants then):

    python manage.py migrate --database migrate
    RUNTIME_DB_PASSWORD=... python manage.py grant_runtime_role edc_app --database migrate

The role owns nothing and is no superuser, so it cannot disable the history triggers, truncate a
table or run as `session_replication_role = replica`; see core/db.py.
"""

import os

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from core.db import runtime_role_statements


class Command(BaseCommand):
    help = "Create the app's runtime database role (no ownership) and grant it what the app needs."

    def add_arguments(self, parser):
        parser.add_argument("role", help="The role the app connects as (DATABASE_URL's user).")
        parser.add_argument(
            "--database",
            default="migrate" if "migrate" in connections.settings else DEFAULT_DB_ALIAS,
            help="The connection of the tables' owner (default: the 'migrate' alias, made from "
            "MIGRATION_DATABASE_URL, when set).",
        )
        parser.add_argument(
            "--password-env",
            default="RUNTIME_DB_PASSWORD",
            help="Environment variable holding the role's password, used when the role is "
            "created (default RUNTIME_DB_PASSWORD). Without it the role is made without a "
            "password (for local trust or certificate authentication).",
        )

    def handle(self, *args, role, database, password_env, **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            raise CommandError("Database roles are a PostgreSQL matter; this database is not.")
        quote = connection.ops.quote_name
        with transaction.atomic(using=database), connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb "
                "FROM pg_roles WHERE rolname = %s",
                [role],
            )
            row = cursor.fetchone()
            if row is None:
                password = os.environ.get(password_env, "")
                create = (
                    f"CREATE ROLE {quote(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                    "NOREPLICATION NOBYPASSRLS NOINHERIT"
                )
                if password:
                    cursor.execute(create + " PASSWORD %s", [password])
                else:
                    cursor.execute(create)
                self.stdout.write(f"Created role {role}.")
            elif any(row):
                raise CommandError(
                    f"Role {role} is a superuser or may bypass row security, create roles or "
                    "databases: the app's role must have none of these powers."
                )
            cursor.execute("SELECT current_user, current_database()")
            owner, name = cursor.fetchone()
            if owner == role:
                raise CommandError("Run this as the tables' owner, not as the runtime role.")
            cursor.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = %s",
                [role],
            )
            if cursor.fetchone()[0]:
                raise CommandError(f"Role {role} owns tables: the app's role must own nothing.")
            statements = runtime_role_statements(
                role, quote=quote, models=apps.get_models(include_auto_created=True), database=name
            )
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(
            f"Granted {role} the app's rights on {name} ({len(statements)} statements)."
        )
