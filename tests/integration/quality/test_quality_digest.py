"""The daily e-mail digest of queries is sent once per person and day (docs/quality.md §2)."""

import pytest
from django.core import mail

from quality import services
from quality.models import DigestSent
from quality.tasks import send_query_digests

pytestmark = pytest.mark.django_db


def test_digest_to_the_site_then_the_monitor_once_a_day(
    monitor, coordinator_a, coordinator_b, investigator_a, subject, dose
):
    query = services.query_open(
        by=monitor, subject=subject, form="dose", record_id=dose.pk, field="lot_number", text="Lot?"
    )
    assert send_query_digests("2026-11-30") == 2
    assert sorted(m.to[0] for m in mail.outbox) == [
        "coord_a@example.org",
        "investigator_a@example.org",
    ]
    assert "Lot?" in mail.outbox[0].body and "1 query awaiting you" in mail.outbox[0].subject
    # Again the same day: nothing more.
    assert send_query_digests("2026-11-30") == 0
    assert len(mail.outbox) == 2
    # Answered: the monitor is told the next day; the site has nothing open.
    services.query_answer(by=coordinator_a, query=query, text="Corrected")
    assert send_query_digests("2026-12-01") == 1
    assert mail.outbox[-1].to == ["monitor@example.org"]
    assert DigestSent.objects.count() == 3


def test_the_protocol_files_quality_section_is_loaded_once(study):
    from decimal import Decimal

    from quality.models import QualitySettings
    from trial.services import load_study

    settings = QualitySettings.objects.get(study=study)
    assert settings.sdv_forms == ["subject", "dose", "adverse_event"]
    assert settings.weight_expected_min_kg == Decimal("40.0")
    load_study("mil97")
    assert settings.history.count() == 1
