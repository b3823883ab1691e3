"""Shared fixtures: the MIL97 study, two sites, one persona per role, subjects made through the
services (so every test record is audited and validated like a real one)."""

import os
from datetime import timedelta

import pytest
from django.conf import settings
from simple_history.utils import bulk_create_with_history

from accounts.models import Membership, User
from accounts.roles import Role
from core.dates import site_today
from safety.ctcae import FIELDS as CTCAE_FIELDS
from safety.ctcae import import_terms, read_starter_set
from safety.models import CtcaeTerm
from trial.models import Cohort, Site
from trial.services import load_study

REQUIRE_SERVICES = os.environ.get("EDC_REQUIRE_SERVICES") == "1"
PASSWORD = "correct-horse-battery"


def pytest_configure(config):
    _flush_past_the_history_guard()
    # The test databases are disposable: a commit need not wait for the disk (PostgreSQL's
    # synchronous_commit, per connection). Migrations and the tests that commit run faster; what
    # a transaction sees is unchanged.
    for database in settings.DATABASES.values():
        if "postgresql" in database["ENGINE"]:
            options = database.setdefault("OPTIONS", {})
            options["options"] = f"{options.get('options', '')} -c synchronous_commit=off".strip()
    # A fast hasher first for the test personas (Django's advice for test suites): PBKDF2 at its
    # production work factor costs about a second of CPU per persona on the CI machine, and
    # every test makes several. PBKDF2 stays listed, so a production-made hash still verifies;
    # the product's own settings are unchanged.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


def _flush_past_the_history_guard():
    """Tests that commit (transaction=True, the live server) end with Django's flush, a TRUNCATE
    of every table, which the history tables refuse on PostgreSQL (core/db.py). The test database
    is disposable and the tests connect as a superuser, which may run as a replica: its flush
    skips the triggers. The product's own connections never do this."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    if getattr(DatabaseOperations.sql_flush, "past_history_guard", False):
        return
    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if tables and not reset_sequences:
            # DELETE, not TRUNCATE: a TRUNCATE of the 250-odd tables gives each a new file, about a
            # second per test that commits; most of them are empty and a DELETE of an empty table
            # costs nothing. As a replica, neither the foreign keys nor the history guard fire, so
            # the order does not matter.
            quote = self.quote_name
            return [
                "SET LOCAL session_replication_role = replica",
                *(f"DELETE FROM {quote(table)}" for table in tables),
            ]
        statements = original(
            self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if statements:
            statements = ["SET LOCAL session_replication_role = replica", *statements]
        return statements

    sql_flush.past_history_guard = True
    DatabaseOperations.sql_flush = sql_flush


def pytest_sessionstart(session):
    if REQUIRE_SERVICES:
        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise pytest.UsageError(
                f"EDC_REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL ({engine})"
            )
        if not settings.REDIS_URL:
            raise pytest.UsageError("EDC_REQUIRE_SERVICES=1 but REDIS_URL is not set")


def needs_postgresql():
    """For tests of PostgreSQL-only guarantees: in CI they run (and fail if PG is missing)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        if REQUIRE_SERVICES:
            pytest.fail("PostgreSQL is required in CI but the test database is not PostgreSQL")
        pytest.skip("needs PostgreSQL (set DATABASE_URL); CI runs it")


@pytest.fixture(autouse=True)
def tasks_run_in_process():
    """Tasks run in process (eagerly, after commit) unless a test starts a real worker.

    CI sets REDIS_URL, which would otherwise send every task to a queue nobody consumes.
    """
    from config.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def study(db):
    return load_study("mil97").study


def _site(study, number, name, country, tz):
    return Site.objects.create(
        study=study,
        number=number,
        name=name,
        country=country,
        timezone=tz,
        principal_investigator=f"PI of {name}",
        is_active=True,
        activated_on=site_today(tz) - timedelta(days=365),
    )


@pytest.fixture
def site_a(study):
    return _site(study, "101", "Site A", "US", "America/New_York")


@pytest.fixture
def site_b(study):
    return _site(study, "102", "Site B", "AU", "Australia/Sydney")


def make_user(username, study, role, sites=(), **extra):
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        first_name=username.title(),
        last_name="Tester",
        email=f"{username}@example.org",
        **extra,
    )
    membership = Membership.objects.create(user=user, study=study, role=role)
    membership.sites.set(sites)
    return user


@pytest.fixture
def coordinator_a(study, site_a):
    return make_user("coord_a", study, Role.COORDINATOR, [site_a])


@pytest.fixture
def coordinator_b(study, site_b):
    return make_user("coord_b", study, Role.COORDINATOR, [site_b])


@pytest.fixture
def investigator_a(study, site_a):
    return make_user("investigator_a", study, Role.INVESTIGATOR, [site_a])


@pytest.fixture
def monitor(study):
    return make_user("monitor", study, Role.MEDICAL_MONITOR)


@pytest.fixture
def data_manager(study):
    return make_user("datamanager", study, Role.DATA_MANAGER)


@pytest.fixture
def sponsor(study):
    return make_user("sponsor", study, Role.SPONSOR)


@pytest.fixture
def ctcae(db):
    """The CTCAE starter set, as `import_terms` stores it (tests/integration/test_configuration.py
    and the "Other, specify" tests exercise the import itself): one bulk insert with its history
    rows instead of a validated save per term, which most tests pay for in their setup."""
    if CtcaeTerm.objects.exists():
        import_terms(read_starter_set())
        return
    terms = []
    for data in read_starter_set():
        values = {field: data.get(field) for field in CTCAE_FIELDS}
        values["definition"] = values["definition"] or ""
        values["navigational_note"] = values["navigational_note"] or ""
        terms.append(CtcaeTerm(meddra_code=data["meddra_code"], version="5.0", **values))
    bulk_create_with_history(
        terms, CtcaeTerm, default_change_reason="Imported from the CTCAE workbook"
    )


@pytest.fixture
def cohort1(study):
    return Cohort.objects.get(study=study, number=1)
