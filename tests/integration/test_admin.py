"""The Django admin configures studies, sites, dose levels, users and roles; it deletes nothing."""

import pytest
from django.urls import reverse

from accounts.models import Membership, User
from trial.models import Cohort, DoseLevel, EscalationTrack, Regimen, Site, Study

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, study, site_a, coordinator_a):
    admin = User.objects.create_superuser("root", "root@example.org", "root-password-1")
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "model", [Study, Site, Regimen, DoseLevel, EscalationTrack, Cohort, User, Membership]
)
def test_configuration_pages_open_and_offer_no_delete(admin_client, model):
    meta = model._meta
    changelist = admin_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
    assert changelist.status_code == 200
    instance = model.objects.first()
    change = admin_client.get(
        reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[instance.pk])
    )
    assert change.status_code == 200
    delete = admin_client.get(
        reverse(f"admin:{meta.app_label}_{meta.model_name}_delete", args=[instance.pk])
    )
    assert delete.status_code == 403


def test_editing_a_site_in_the_admin_is_audited_with_its_reason(admin_client, site_a):
    url = reverse("admin:trial_site_change", args=[site_a.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"name": "Site A renamed", "activated_on": site_a.activated_on.isoformat()})
    refused = admin_client.post(url, data)  # no reason given
    assert refused.status_code == 200
    assert "change_reason" in refused.context["adminform"].form.errors
    assert site_a.history.count() == 1
    data["change_reason"] = "Site renamed after the merger"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    last = site_a.history.order_by("-history_id").first()
    assert last.name == "Site A renamed" and last.history_user.username == "root"
    assert last.history_change_reason == "Site renamed after the merger"
