"""Access is decided in one place (accounts.scoping); another site's record answers 404."""

import pytest
from django.urls import reverse

from accounts.scoping import restrict
from subjects.models import Subject
from tests.conftest import PASSWORD
from tests.factories import screened_subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def subjects(coordinator_a, coordinator_b, site_a, site_b):
    return {
        "a": screened_subject(coordinator_a, site_a, "A-1"),
        "b": screened_subject(coordinator_b, site_b, "B-1"),
    }


def test_coordinator_of_site_a_gets_404_for_a_subject_of_site_b(client, coordinator_a, subjects):
    client.force_login(coordinator_a)
    own = client.get(reverse("subject_detail", args=[subjects["a"].pk]))
    other = client.get(reverse("subject_detail", args=[subjects["b"].pk]))
    assert own.status_code == 200
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("coordinator_a", {"A-1"}),
        ("coordinator_b", {"B-1"}),
        ("investigator_a", {"A-1"}),
        ("monitor", {"A-1", "B-1"}),
        ("data_manager", {"A-1", "B-1"}),
        ("sponsor", {"A-1", "B-1"}),
    ],
)
def test_who_sees_which_subjects(request, subjects, persona, visible):
    user = request.getfixturevalue(persona)
    seen = set(restrict(Subject.objects.all(), user).values_list("screening_number", flat=True))
    assert seen == visible


def test_a_user_without_a_role_in_the_study_sees_nothing(django_user_model, subjects):
    outsider = django_user_model.objects.create_user(username="outsider", password=PASSWORD)
    assert not restrict(Subject.objects.all(), outsider).exists()


def test_pages_need_sign_in(client, subjects):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_repeated_failed_logins_lock_the_account(client, coordinator_a, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": coordinator_a.username, "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": coordinator_a.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
