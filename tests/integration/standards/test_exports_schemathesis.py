"""Schemathesis on the exports endpoints with the sponsor's token (the role that may export),
so that generated requests reach the export service and the zip download, not only the 404s a
site role gets (tests/integration/api/test_api_schemathesis.py runs them as a coordinator)."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from api.tokens import token_create
from standards.models import Export
from standards.services import export_request, run_export
from tests.integration.api.test_api_schemathesis import CHECKS, MAX_EXAMPLES, served_document

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_dict(served_document()).include(path_regex=r"^/api/v1/exports")
schema.app = get_wsgi_application()


@schema.hook
def flatmap_case(context, case):
    """Steer part of the requests onto the real exports and the real study."""
    if not (case.path_parameters or isinstance(case.body, dict)):
        return st.just(case)

    def steer(rnd):
        ids = sorted(Export.objects.values_list("pk", flat=True))
        if "id" in (case.path_parameters or {}) and ids and rnd.random() < 0.7:
            case.path_parameters = {**case.path_parameters, "id": rnd.choice(ids)}
        if isinstance(case.body, dict) and "study" in case.body and rnd.random() < 0.7:
            from trial.models import Study

            case.body = {**case.body, "study": Study.objects.get().pk}
        return case

    return st.randoms(use_true_random=False).map(steer)


@pytest.fixture(autouse=True)
def requests_inside_the_test_transaction(settings, tmp_path):
    settings.STANDARDS_EXPORT_DIR = tmp_path
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def exports(trial_data, study, sponsor):
    done = export_request(by=sponsor, study=study)
    run_export(done.pk)
    export_request(by=sponsor, study=study)  # one left queued: its download answers 409
    return Export.objects.all()


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_exports_answer_as_documented_for_the_sponsor(case, sponsor, exports):
    token = token_create(by=sponsor, name="fuzz").secret
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
