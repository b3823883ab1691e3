"""The samples of a dose visit, entered at the site (docs/pharmacology.md §7.2)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse

from pharmacology.models import Sample


def local(moment, site):
    return moment.astimezone(ZoneInfo(site.timezone)).strftime("%Y-%m-%dT%H:%M")


def test_coordinator_records_a_late_sample_and_sees_it_flagged(
    client, coordinator_a, site_a, subject_a, dose_a
):
    client.force_login(coordinator_a)
    url = reverse("pharmacology:dose_samples", args=[dose_a.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert b"PK 336 h" in page.content and b"ADA pre-dose" in page.content
    late = dose_a.infusion_start + timedelta(hours=2, minutes=40)
    response = client.post(
        url,
        {
            "kind": "pk",
            "timepoint": "2 h",
            "collected": "yes",
            "sample_id": "PK-0001",
            "collected_at": local(late, site_a),
        },
    )
    assert response.status_code == 302
    page = client.get(url)
    assert b"outside the window" in page.content and b"deviation 0.67 h" in page.content
    sample = Sample.objects.get(sample_id="PK-0001")
    assert sample.collected_at == late and sample.out_of_window


def test_an_error_keeps_the_typed_values_on_the_row(client, coordinator_a, site_a, dose_a):
    client.force_login(coordinator_a)
    url = reverse("pharmacology:dose_samples", args=[dose_a.pk])
    response = client.post(
        url,
        {
            "kind": "pk",
            "timepoint": "pre-dose",
            "collected": "yes",
            "sample_id": "PK-0002",
            "collected_at": local(dose_a.infusion_start + timedelta(minutes=10), site_a),
        },
    )
    assert response.status_code == 200
    assert b"pre-dose sample taken after the infusion started" in response.content
    assert b'value="PK-0002"' in response.content
    assert not Sample.objects.exists()


def test_other_sites_and_read_only_roles(client, coordinator_b, sponsor, dose_a):
    url = reverse("pharmacology:dose_samples", args=[dose_a.pk])
    client.force_login(coordinator_b)
    assert client.get(url).status_code == 404
    client.force_login(sponsor)
    page = client.get(url)
    assert (
        page.status_code == 200
        and b'<form method="post" class="form sample-form"' not in page.content
    )
    assert client.post(url, {"kind": "pk", "timepoint": "2 h"}).status_code == 403


def test_the_dosing_visit_page_links_to_its_samples(client, coordinator_a, subject_a, dose_a):
    client.force_login(coordinator_a)
    page = client.get(reverse("visits:visit", args=[subject_a.pk, "C1D1"]))
    assert page.status_code == 200
    link = reverse("pharmacology:dose_samples", args=[dose_a.pk])
    assert f'href="{link}"' in page.content.decode()
