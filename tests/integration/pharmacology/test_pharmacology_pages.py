"""The data manager's laboratory file pages and the monitor's PK page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from pharmacology.models import LabImport
from tests.integration.pharmacology.conftest import pk_csv

QUERIES_LAB_FILES = 8
QUERIES_PK = 11


def upload(client, content, name="run.csv"):
    return client.post(
        reverse("pharmacology:lab_imports"),
        {"kind": "pk", "file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


def test_a_refused_file_shows_its_report_row_by_row(client, data_manager, subject_a, pk_samples):
    client.force_login(data_manager)
    content = pk_csv(pk_samples, subject_a, overrides={"24 h": "1.6 ug"})
    response = upload(client, content, "bad.csv")
    imported = LabImport.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/lab-files/{imported.pk}/")
    page = client.get(response.url)
    assert b"Refused: nothing was saved" in page.content
    assert b"<td>6</td><td>result</td><td>PK-24h</td>" in page.content
    download = client.get(response.url + "?download=1")
    assert download.content == content


def test_monitor_sees_curves_parameters_and_csv(
    client, data_manager, monitor, coordinator_a, subject_a, pk_samples,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    client.force_login(data_manager)
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(client, pk_csv(pk_samples, subject_a)).status_code == 302
    client.force_login(monitor)
    page = client.get(reverse("pharmacology:pk"))
    assert page.status_code == 200
    text = page.content.decode()
    # Interval 1's four curves; Cycle 1 against steady state (linear, semi-log) and the troughs
    # (none yet: only Cycle 1 was dosed, so no trough chart).
    assert text.count("<svg") == 6 and "semi-log" in text
    assert f'data-nca-subject="{subject_a.subject_number}"' in text
    assert ">2.1<" in text  # Cmax
    csv_text = client.get(reverse("pharmacology:pk") + "?csv=nca").content.decode()
    assert csv_text.splitlines()[0].startswith("dose_level,subject,analyte,unit,dose_mg,cmax")
    assert ",2.1," in csv_text.splitlines()[1]
    # A coordinator does not see the laboratory files (they name every site's subjects).
    client.force_login(coordinator_a)
    assert client.get(reverse("pharmacology:lab_imports")).status_code == 403


@pytest.mark.parametrize("who", ["monitor", "sponsor"])
def test_read_only_roles_cannot_import(client, request, who, subject_a, pk_samples):
    client.force_login(request.getfixturevalue(who))
    page = client.get(reverse("pharmacology:lab_imports"))
    assert page.status_code == 200 and b"data-lab-form" not in page.content
    assert upload(client, pk_csv(pk_samples, subject_a)).status_code == 403
    assert not LabImport.objects.exists()


def test_pages_read_a_fixed_number_of_queries(
    client, data_manager, monitor, subject_a, pk_samples, django_capture_on_commit_callbacks,
    django_assert_num_queries,
):  # fmt: skip
    client.force_login(data_manager)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, pk_csv(pk_samples, subject_a))
    upload(client, pk_csv(pk_samples, subject_a), "again.csv")  # refused: duplicates
    # Session, user, memberships with their sites, the files with their senders, and the
    # session's activity time written back (savepoint, update, release): whatever the number of
    # files.
    with django_assert_num_queries(QUERIES_LAB_FILES):
        assert client.get(reverse("pharmacology:lab_imports")).status_code == 200
    client.force_login(monitor)
    # The same four, the concentrations with their samples, subjects and dose levels, the
    # analyses with theirs, the protocol's settings and the concentrations across cycles (the
    # Cycle 1 and steady-state profiles and the troughs), and the session's write: whatever the
    # number of subjects and samples.
    with django_assert_num_queries(QUERIES_PK):
        assert client.get(reverse("pharmacology:pk")).status_code == 200
