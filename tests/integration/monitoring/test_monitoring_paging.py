"""The timeline and the listings a page at a time (docs/operations.md §6): the pages together
show every subject or listed event once, in order, within the page's limits; the CSV keeps the
whole table; the links keep the filters and the other tables' pages."""

import csv
import io
from urllib.parse import parse_qs

import pytest
from django.urls import reverse

from monitoring.pages import listings as listings_module
from monitoring.pages import timeline as timeline_module
from safety.models import AdverseEvent
from subjects.models import Subject
from tests.integration.monitoring import bulk

pytestmark = pytest.mark.django_db


@pytest.fixture
def large(study, site_a, site_b, coordinator_a, ctcae):
    return bulk.build(study, [site_a, site_b], coordinator_a, n_subjects=60, n_events=1000)


def timeline_pages(client, **params):
    """Every page of the timeline, following `has_next` from page 1."""
    pages, number = [], 1
    while True:
        page = client.get(reverse("monitoring:timeline"), {**params, "page": number})
        pages.append(page.context["page"])
        if not pages[-1].pager.has_next:
            return pages
        number += 1
        assert number < 100


def subjects_of(page) -> list[str]:
    return [s.label for group in page.groups for s in group.subjects]


def test_timeline_pages_hold_every_subject_once_within_their_limits(
    client, monitor, large, monkeypatch
):
    monkeypatch.setattr(timeline_module, "SUBJECTS_PER_PAGE", 7)
    monkeypatch.setattr(timeline_module, "MARKS_PER_PAGE", 60)
    client.force_login(monitor)
    pages = timeline_pages(client)
    assert len(pages) > 3
    before = 0
    for page in pages:
        subjects = [s for group in page.groups for s in group.subjects]
        marks = sum(len(s.doses) + len(s.events) for s in subjects)
        assert 1 <= len(subjects) <= 7
        assert marks <= 60 or len(subjects) == 1  # a subject with more has a page alone
        assert (page.pager.first, page.pager.last) == (before + 1, before + len(subjects))
        before += len(subjects)
    shown = [label for page in pages for label in subjects_of(page)]
    enrolled = Subject.objects.filter(cohort__isnull=False).count()
    assert len(shown) == len(set(shown)) == enrolled == pages[0].pager.total
    # Every event of a shown subject is drawn on its page.
    events = sum(len(s.events) for p in pages for g in p.groups for s in g.subjects)
    assert events == AdverseEvent.objects.count()
    # The CSV has every subject, in the pages' order.
    download = client.get(reverse("monitoring:timeline"), {"format": "csv", "table": "windows"})
    rows = list(csv.reader(io.StringIO(download.content.decode())))[1:]
    assert [row[1] for row in rows] == shown
    # The last page knows it is the last; a page past the end is the last one.
    assert pages[-1].pager.pages == len(pages) and not pages[-1].pager.has_next
    beyond = client.get(reverse("monitoring:timeline"), {"page": 999}).context["page"]
    assert subjects_of(beyond) == subjects_of(pages[-1])
    assert (
        client.get(reverse("monitoring:timeline"), {"page": "x"}).context["page"].pager.number == 1
    )


def test_timeline_pages_follow_the_date_filter(client, monitor, large, monkeypatch):
    monkeypatch.setattr(timeline_module, "SUBJECTS_PER_PAGE", 5)
    client.force_login(monitor)
    everyone = [label for page in timeline_pages(client) for label in subjects_of(page)]
    first = client.get(reverse("monitoring:timeline")).context["page"]
    window = first.groups[0].subjects[0]
    params = {
        "date_from": window.window_start.isoformat(),
        "date_to": window.window_end.isoformat(),
    }
    pages = timeline_pages(client, **params)
    filtered = [label for page in pages for label in subjects_of(page)]
    assert window.label in filtered and len(filtered) < len(everyone)
    assert filtered == [label for label in everyone if label in filtered]  # same order
    # The pager's links keep the filters.
    if pages[0].pager.has_next:
        response = client.get(reverse("monitoring:timeline"), params)
        assert f"date_from={params['date_from']}" in response.content.decode()


def test_listing_pages_hold_every_listed_event_once(client, monitor, large, monkeypatch):
    monkeypatch.setattr(listings_module, "LISTED_PER_PAGE", 4)
    client.force_login(monitor)
    url = reverse("monitoring:listings")
    first = client.get(url).context["page"]
    saes = AdverseEvent.objects.filter(serious=True)
    assert first.pagers["sae"].total == saes.count() > 8
    assert first.pagers["dlt"].total == sum(1 for e in AdverseEvent.objects.all() if e.is_dlt)
    seen = []
    for number in range(1, first.pagers["sae"].pages + 1):
        page = client.get(url, {"sae_page": number}).context["page"]
        assert len(page.saes) <= 4 and page.pagers["sae"].number == number
        seen += [row.event.pk for row in page.saes]
    assert sorted(seen) == sorted(saes.values_list("pk", flat=True)) and len(set(seen)) == len(seen)
    ordered = list(
        saes.order_by("onset_date", "subject__subject_number", "pk").values_list("pk", flat=True)
    )
    assert seen == ordered
    # The CSV of a listing is whole.
    download = client.get(url, {"format": "csv", "table": "sae"})
    assert len(list(csv.reader(io.StringIO(download.content.decode())))) == 1 + len(seen)


def test_listing_links_keep_the_other_tables_pages(client, monitor, large, monkeypatch):
    monkeypatch.setattr(listings_module, "LISTED_PER_PAGE", 2)
    client.force_login(monitor)
    response = client.get(reverse("monitoring:listings"), {"sae_page": 2, "dlt_page": 2})
    page = response.context["page"]
    assert page.pagers["sae"].number == 2 and page.pagers["dlt"].number == 2
    next_dlt = parse_qs(page.pagers["dlt"].query)
    assert next_dlt["sae_page"] == ["2"] and "dlt_page" not in next_dlt
    html = response.content.decode()
    assert 'rel="next"' in html and "#sae-title" in html
