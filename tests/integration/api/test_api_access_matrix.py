"""Role x endpoint: each persona's allowed and refused calls, stated once as a table.

Site roles see their own sites only (another site's record answers 404, as if it did not
exist); study roles see the whole study; the sponsor and the medical monitor never write
(403); the data manager corrects and voids but does not enter data.
"""

from datetime import timedelta

import pytest

from core.dates import site_today
from tests.factories import enrolled_subject

pytestmark = pytest.mark.django_db

PERSONAS = [
    "coordinator_a",
    "coordinator_b",
    "investigator_a",
    "monitor",
    "data_manager",
    "sponsor",
]
STUDY_ROLES = {"monitor", "data_manager", "sponsor"}


def visible(persona, a, b):
    """What a persona sees of records at site A (a) and site B (b)."""
    if persona in ("coordinator_a", "investigator_a"):
        return a
    if persona == "coordinator_b":
        return b
    return a | b


# --- Reads ---


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("path", "key", "seen_a", "seen_b"),
    [
        ("subjects", "screening_number", {"A-1", "A-2"}, {"B-1"}),
        ("dose-administrations", "subject_number", {"101-001"}, {"102-001"}),
        ("adverse-events", "subject_number", {"101-001"}, {"102-001"}),
        ("sites", "number", {"101"}, {"102"}),
    ],
)
def test_lists_are_scoped_to_the_personas_sites(
    request, api, records, persona, path, key, seen_a, seen_b
):
    response = api(request.getfixturevalue(persona)).get(f"/api/v1/{path}/")
    assert response.status_code == 200, response.content
    assert {row[key] for row in response.json()["results"]} == visible(persona, seen_a, seen_b)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    "path", ["studies", "regimens", "dose-levels", "cohorts", "escalation-decisions"]
)
def test_study_configuration_is_visible_to_every_member(request, api, records, persona, path):
    response = api(request.getfixturevalue(persona)).get(f"/api/v1/{path}/")
    assert response.status_code == 200


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    ("path", "record"),
    [
        ("subjects", "subject"),
        ("dose-administrations", "dose"),
        ("adverse-events", "ae"),
    ],
)
@pytest.mark.parametrize("suffix", ["", "history/"])
def test_another_sites_record_answers_404(request, api, records, persona, path, record, suffix):
    client = api(request.getfixturevalue(persona))
    for site in ("a", "b"):
        pk = records[f"{record}_{site}"].pk
        response = client.get(f"/api/v1/{path}/{pk}/{suffix}")
        allowed = persona in STUDY_ROLES or persona.endswith(f"_{site}")
        assert response.status_code == (200 if allowed else 404), (site, response.content)
        if not allowed:
            assert response.json()["error"]["code"] == "not_found"


def test_a_user_without_a_role_in_the_study_sees_nothing(api, records, django_user_model):
    outsider = django_user_model.objects.create_user(username="outsider", password="x-Y-z-123456")
    client = api(outsider)
    assert client.get("/api/v1/subjects/").json()["results"] == []
    assert client.get(f"/api/v1/adverse-events/{records['ae_a'].pk}/").status_code == 404


# --- Writes ---


def ae_body(subject, **extra):
    today = site_today(subject.site.timezone)
    return {
        "subject": subject.pk,
        "meddra_code": 10016256,  # Fatigue
        "verbatim_term": "tiredness",
        "grade": 2,
        "onset_date": (today - timedelta(days=3)).isoformat(),
        "relationship": "unlikely",
        "action_taken": "none",
        "outcome": "not_recovered",
        **extra,
    }


def patch(client, path, record, body):
    etag = client.get(f"/api/v1/{path}/{record.pk}/")["ETag"]
    return client.patch(f"/api/v1/{path}/{record.pk}/", body, format="json", HTTP_IF_MATCH=etag)


def etag_of(record):
    return f'"{record.pk}.{record.version}"'


WRITES = {
    # persona: (report AE at site A, correct AE at site A, void AE at site A, screen at site A)
    "coordinator_a": (201, 200, 200, 201),
    "investigator_a": (201, 200, 200, 201),
    "coordinator_b": (400, 404, 404, 400),
    "monitor": (403, 403, 403, 403),
    "data_manager": (403, 200, 200, 403),
    "sponsor": (403, 403, 403, 403),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_report_an_adverse_event(request, api, records, persona):
    client = api(request.getfixturevalue(persona))
    response = client.post("/api/v1/adverse-events/", ae_body(records["subject_a"]), format="json")
    assert response.status_code == WRITES[persona][0], response.content
    if response.status_code == 400:
        # Another site's subject is, for this persona, a subject that does not exist.
        assert "subject" in response.json()["error"]["fields"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_correct_an_adverse_event(request, api, records, persona):
    client = api(request.getfixturevalue(persona))
    ae = records["ae_a"]
    response = client.patch(
        f"/api/v1/adverse-events/{ae.pk}/",
        {"grade": 2, "reason": "Source document says grade 2"},
        format="json",
        HTTP_IF_MATCH=etag_of(ae),
    )
    assert response.status_code == WRITES[persona][1], response.content


@pytest.mark.parametrize("persona", PERSONAS)
def test_void_an_adverse_event(request, api, records, persona):
    client = api(request.getfixturevalue(persona))
    ae = records["ae_a"]
    response = client.delete(
        f"/api/v1/adverse-events/{ae.pk}/?reason=Entered+twice", HTTP_IF_MATCH=etag_of(ae)
    )
    assert response.status_code == WRITES[persona][2], response.content
    if response.status_code == 200:
        assert response.json()["voided"] is True


@pytest.mark.parametrize("persona", PERSONAS)
def test_screen_a_subject(request, api, records, site_a, persona):
    client = api(request.getfixturevalue(persona))
    response = client.post(
        "/api/v1/subjects/",
        {
            "site": site_a.pk,
            "screening_number": "A-9",
            "sex": "M",
            "year_of_birth": 1970,
            "screening_date": site_today(site_a.timezone).isoformat(),
        },
        format="json",
    )
    assert response.status_code == WRITES[persona][3], response.content


@pytest.mark.parametrize("persona", PERSONAS)
def test_record_a_dose(request, api, records, coordinator_a, site_a, cohort_b, persona):
    subject = enrolled_subject(coordinator_a, site_a, "A-3", cohort_b, days_ago=5)
    start = (site_today(site_a.timezone) - timedelta(days=1)).isoformat()
    response = api(request.getfixturevalue(persona)).post(
        "/api/v1/dose-administrations/",
        {
            "subject": subject.pk,
            "cycle": 1,
            "day": 1,
            "actual_dose_per_kg": "0.01",
            "body_weight_kg": "72.5",
            "infusion_start": f"{start}T09:00:00-05:00",
            "infusion_end": f"{start}T10:30:00-05:00",
            "lot_number": "LOT-7",
        },
        format="json",
    )
    expected = {"coordinator_a": 201, "investigator_a": 201, "coordinator_b": 400}.get(persona, 403)
    assert response.status_code == expected, response.content
    if expected == 201:
        assert response.json()["total_dose_mg"] == "0.725"


@pytest.mark.parametrize("persona", ["sponsor", "monitor"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/subjects/"),
        ("post", "/api/v1/dose-administrations/"),
        ("post", "/api/v1/adverse-events/"),
        ("patch", "/api/v1/subjects/{subject_a}/"),
        ("delete", "/api/v1/subjects/{screened_a}/"),
        ("post", "/api/v1/subjects/{screened_a}/consent/"),
        ("patch", "/api/v1/dose-administrations/{dose_a}/"),
        ("delete", "/api/v1/dose-administrations/{dose_a}/"),
        ("patch", "/api/v1/adverse-events/{ae_a}/"),
    ],
)
def test_read_only_roles_get_403_for_any_write_whatever_they_send(
    request, api, records, persona, method, path
):
    """Refused before anything else is looked at: no body, no If-Match, still 403."""
    url = path.format(**{k: v.pk for k, v in records.items()})
    response = getattr(api(request.getfixturevalue(persona)), method)(url, {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_unauthenticated_calls_get_401_with_the_scheme(client, records):
    response = client.get("/api/v1/adverse-events/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"
