"""On PostgreSQL the streamed pull is written by the database (`COPY ... TO STDOUT`, api/pg_copy.py):
byte for byte what the Python path writes (the list's cells, docs/operations.md §5), with
values that trip CSV and JSON writers, read in blocks of whole rows, and stopped when the client
goes away."""

import csv
import io
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection

from api import pg_copy, streaming
from dosing.services import dose_update, dose_void
from safety.services import adverse_event_adjudicate, adverse_event_update, adverse_event_void
from tests.conftest import needs_postgresql
from tests.factories import reported_ae

pytestmark = pytest.mark.django_db

# Commas, quotes, both line breaks, backslashes, a tab, accents, CJK and an emoji: every way a
# CSV or JSON writer can go wrong with the text a site may type (core/text.py refuses the other
# control characters); and the starts a spreadsheet reads as a formula.
TRICKY = 'Rash, "itchy"\nsecond line\r\nthird — ünïcödé 中文 😀 C:\\temp\\x\ttab\\ end\\'
FORMULAS = ["=HYPERLINK(1)", "+1", "-2", "@SUM(A1)"]
ALL = "include_voided=true"
WHOLE_SECOND = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)


@pytest.fixture(autouse=True)
def postgresql():
    needs_postgresql()


def body(response) -> bytes:
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def both_paths(client, url, monkeypatch) -> tuple[bytes, bytes]:
    """(the database's export, the Python path's export) of the same request."""
    calls = []
    real = pg_copy.copy_blocks

    def spy(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(pg_copy, "copy_blocks", spy)
    copied = body(client.get(url))
    assert len(calls) == 1 and calls[0].startswith("COPY (")  # the database wrote it
    with monkeypatch.context() as python_only:
        python_only.setattr(streaming, "copied", lambda *args: None)
        written = body(client.get(url))
    return copied, written


@pytest.fixture
def tricky(records, coordinator_a, coordinator_b, monitor):
    """Records whose cells hold every kind of awkward value: text with commas, quotes, line
    breaks, backslashes, control characters and non-ASCII; formula-looking text; empty and NULL
    cells; dates; decimals; times with and without microseconds; voided records."""
    subject_a = records["subject_a"]
    ae = records["ae_a"]
    ae = adverse_event_update(
        by=coordinator_a,
        adverse_event=ae,
        changes={"verbatim_term": TRICKY},
        reason="Verbatim as written",
        expected_version=ae.version,
    )
    # Adjudicated on a whole second: the time is written without a fraction.
    with time_machine.travel(WHOLE_SECOND, tick=False):
        adverse_event_adjudicate(
            by=monitor,
            adverse_event=ae,
            is_dlt=False,
            note='Not a DLT, "per protocol"\nsee §5.2',
            expected_version=ae.version,
        )
    for text in FORMULAS:
        reported_ae(coordinator_a, subject_a, verbatim_term=text, days_ago=3)
    resolved = reported_ae(coordinator_a, subject_a, "Headache", grade=2, days_ago=8)
    adverse_event_update(
        by=coordinator_a,
        adverse_event=resolved,
        changes={"resolution_date": resolved.onset_date, "outcome": "recovered"},
        reason="Resolved the same day",
        expected_version=resolved.version,
    )
    ae_b = records["ae_b"]
    adverse_event_void(
        by=coordinator_b,
        adverse_event=ae_b,
        reason='Entered twice, "duplicate"; see AE 1,\nline 2',
        expected_version=ae_b.version,
    )
    dose = records["dose_a"]
    dose_update(
        by=coordinator_a,
        dose=dose,
        changes={
            "body_weight_kg": Decimal("70.5"),
            "interrupted": True,
            "interruption_details": TRICKY,
            "lot_number": "-LOT,1",
        },
        reason="Weighed again",
        expected_version=dose.version,
    )
    dose_void(
        by=coordinator_b,
        dose=records["dose_b"],
        reason="=wrong subject",
        expected_version=records["dose_b"].version,
    )
    return records


@pytest.mark.parametrize("resource", ["adverse-events", "dose-administrations"])
def test_the_csv_is_byte_for_byte_the_python_paths(api, sponsor, tricky, resource, monkeypatch):
    copied, written = both_paths(
        api(sponsor), f"/api/v1/{resource}/export/?format=csv&{ALL}", monkeypatch
    )
    assert copied == written
    rows = list(csv.reader(io.StringIO(copied.decode(), newline="")))
    assert len(rows) >= 2 and all(len(row) == len(rows[0]) for row in rows)


@pytest.mark.parametrize("resource", ["adverse-events", "dose-administrations"])
def test_the_json_is_byte_for_byte_the_python_paths(api, sponsor, tricky, resource, monkeypatch):
    copied, written = both_paths(api(sponsor), f"/api/v1/{resource}/export/?{ALL}", monkeypatch)
    assert copied == written
    assert json.loads(copied)


def test_the_cells_are_the_lists(api, sponsor, tricky, monkeypatch):
    """The values read back are what was recorded, in the list's forms."""
    client = api(sponsor)
    copied, _ = both_paths(client, f"/api/v1/adverse-events/export/?format=csv&{ALL}", monkeypatch)
    assert copied.startswith(b"id,study,site,") and copied.endswith(b"\r\n")
    rows = list(csv.DictReader(io.StringIO(copied.decode(), newline="")))
    by_id = {int(row["id"]): row for row in rows}
    ae = by_id[tricky["ae_a"].pk]
    assert ae["verbatim_term"] == TRICKY
    assert ae["dlt_adjudicated"] == "false"
    assert ae["dlt_adjudicated_at"] == WHOLE_SECOND.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ae["dlt_adjudication_note"] == 'Not a DLT, "per protocol"\nsee §5.2'
    assert ae["resolution_date"] == "" and ae["void_reason"] == "" and ae["voided_at"] == ""
    assert ae["created_at"].endswith("Z") and "." in ae["created_at"]  # microseconds kept
    formulas = sorted(r["verbatim_term"] for r in rows if r["verbatim_term"][1:] in FORMULAS)
    assert formulas == sorted("'" + text for text in FORMULAS)
    voided = by_id[tricky["ae_b"].pk]
    assert voided["voided"] == "true" and voided["void_reason"].endswith("AE 1,\nline 2")
    as_json = {
        row["id"]: row
        for row in json.loads(body(client.get(f"/api/v1/adverse-events/export/?{ALL}")))
    }
    assert as_json[tricky["ae_a"].pk]["verbatim_term"] == TRICKY
    assert as_json[tricky["ae_a"].pk]["resolution_date"] is None
    assert as_json[tricky["ae_a"].pk]["dlt_adjudicated"] is False
    doses = list(
        csv.DictReader(
            io.StringIO(
                body(client.get(f"/api/v1/dose-administrations/export/?format=csv&{ALL}")).decode(),
                newline="",
            )
        )
    )
    dose = next(d for d in doses if int(d["id"]) == tricky["dose_a"].pk)
    assert dose["body_weight_kg"] == "70.5" and dose["lot_number"] == "'-LOT,1"
    assert dose["interruption_details"] == TRICKY and dose["interrupted"] == "true"


def test_scoping_filters_and_an_empty_export(api, coordinator_a, sponsor, tricky):
    site_a = list(
        csv.DictReader(
            io.StringIO(
                body(api(coordinator_a).get("/api/v1/adverse-events/export/?format=csv")).decode(),
                newline="",
            )
        )
    )
    assert site_a and {int(r["site"]) for r in site_a} == {tricky["subject_a"].site_id}
    none = api(sponsor).get("/api/v1/adverse-events/export/?grade_min=5")
    assert body(none) == b"[]"
    header_only = body(api(sponsor).get("/api/v1/adverse-events/export/?format=csv&grade_min=5"))
    assert header_only.count(b"\r\n") == 1 and header_only.startswith(b"id,")


@pytest.mark.parametrize(
    "text", ["=1", "+1", "-1", "@1", "\tx", "\rx", "x=1", "", None, "'quoted", "é", "\\"]
)
def test_the_sql_text_cell_is_the_python_one(text):
    """Every start core.exports.neutralise guards, written by SQL as by Python (the services
    refuse some of them in clinical text, so they are checked here on their own)."""
    template = pg_copy.CSV_CELLS["text"]
    uses = template.count("{0}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + template.replace("{0}", "%s::text"), [text] * uses)
        (sql_cell,) = cursor.fetchone()
    assert (sql_cell or "") == streaming._text(text)


def test_blocks_hold_whole_rows(api, sponsor, tricky, monkeypatch):
    monkeypatch.setattr(pg_copy, "BLOCK_BYTES", 1)
    response = api(sponsor).get("/api/v1/adverse-events/export/?format=csv")
    chunks = list(response.streaming_content)
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode(), newline="")))
    assert len(chunks) == len(rows)  # the header, then one block per row
    for chunk in chunks:
        assert len(list(csv.reader(io.StringIO(chunk.decode(), newline="")))) == 1


def test_a_failing_copy_raises_to_the_reader():
    with pytest.raises(Exception, match="division by zero"):
        list(pg_copy.copy_blocks("COPY (SELECT 1 / 0) TO STDOUT", pg_copy.crlf_rows))
    assert connection.needs_rollback  # the failed statement aborted the test's transaction


@pytest.mark.django_db(transaction=True)
def test_a_client_that_goes_away_stops_the_database(monkeypatch):
    """A long COPY is cancelled when its reader stops: the worker ends at once, and the
    connection is ready for the next query."""
    monkeypatch.setattr(pg_copy, "BLOCK_BYTES", 64 * 1024)
    monkeypatch.setattr(pg_copy, "QUEUE_BLOCKS", 1)
    blocks = pg_copy.copy_blocks(
        "COPY (SELECT i FROM generate_series(1, 100000000) AS i) TO STDOUT WITH (FORMAT csv)",
        pg_copy.crlf_rows,
    )
    first = next(blocks)
    assert first.startswith(b"1\r\n2\r\n")
    started = time.perf_counter()
    blocks.close()
    assert time.perf_counter() - started < 10  # not the 100 million rows
    assert not [t for t in threading.enumerate() if t.name == "copy-export"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
