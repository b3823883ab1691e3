"""Schemathesis against the app's own OpenAPI document: for every operation, generated requests
(valid and invalid) never get a 5xx, and every response conforms to the document (status code,
content type, headers, body). A bounded number of examples per operation keeps it to minutes;
CI runs it on PostgreSQL (EDC_REQUIRE_SERVICES=1 makes the suite refuse SQLite there).

Requests go to the WSGI application in process, inside the test's transaction, authenticated
with a coordinator's token (the role with the most operations open: reads and writes, scoped
to one site). A hook steers part of the generated requests onto the test data (real ids in paths and
bodies, the record's current ETag in If-Match), so that writes reach the services, not only the
404 and 412 answers.
"""

import json
import os
from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.tokens import token_create
from dosing.models import DoseAdministration
from efficacy.models import Lesion, LesionObservation, TumourAssessment
from efficacy.services import tumour_assessment_record
from safety.models import AdverseEvent, CtcaeTerm
from subjects.models import Subject
from tests.factories import first_dose_day
from trial.models import Cohort, Site

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = int(os.environ.get("EDC_SCHEMATHESIS_EXAMPLES", "12"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
RECORDS = {
    "/api/v1/subjects/{id}/": Subject,
    "/api/v1/dose-administrations/{id}/": DoseAdministration,
    "/api/v1/adverse-events/{id}/": AdverseEvent,
    "/api/v1/tumour-assessments/{id}/": TumourAssessment,
    "/api/v1/lesions/{id}/": Lesion,
    "/api/v1/lesion-observations/{id}/": LesionObservation,
}


def served_document() -> dict:
    """The document /api/schema/ serves (test_api_schema.py checks they are the same), built
    without a request so that it can be loaded when the tests are collected."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document, renderer_context={}))


schema = schemathesis.openapi.from_dict(served_document())
schema.app = get_wsgi_application()


REFERENCES = {
    "subject": Subject,
    "replaces": Subject,
    "site": Site,
    "cohort": Cohort,
    "merged_into": Lesion,
}


@schema.hook
def flatmap_case(context, case):
    """Steer some generated requests onto real data, so that writes reach the services rather
    than stopping at 404 and 412: a real record in the path (with its current ETag in If-Match),
    real ids for references in the body, a real CTCAE term. Hypothesis draws the choices, so a
    failure still shrinks and replays."""
    template = next((t for t in RECORDS if case.operation.path.startswith(t)), None)
    body_refs = isinstance(case.body, dict) and (
        set(case.body) & (set(REFERENCES) | {"meddra_code"})
    )
    if template is None and not body_refs:
        return st.just(case)

    def steer(rnd):
        if template is not None and "id" in (case.path_parameters or {}) and rnd.random() < 0.6:
            model = RECORDS[template]
            pks = sorted(model.all_objects.values_list("pk", flat=True))
            if pks:
                record = model.all_objects.get(pk=rnd.choice(pks))
                case.path_parameters = {**case.path_parameters, "id": record.pk}
                if "If-Match" in (case.headers or {}):
                    case.headers = {**case.headers, "If-Match": f'"{record.pk}.{record.version}"'}
        if body_refs:
            body = dict(case.body)
            for name in body_refs:
                if rnd.random() < 0.7:
                    if name == "meddra_code":
                        codes = sorted(CtcaeTerm.objects.values_list("meddra_code", flat=True))
                        body[name] = rnd.choice(codes)
                    else:
                        pks = sorted(REFERENCES[name].objects.values_list("pk", flat=True))
                        body[name] = rnd.choice(pks)
            case.body = body
        return case

    return st.randoms(use_true_random=False).map(steer)


@pytest.fixture(autouse=True)
def requests_inside_the_test_transaction():
    """Without Django's per-request connection recycling (as Django's own test client does), the
    in-process WSGI requests run inside the test's transaction and see its data."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tumour_records(records, coordinator_a):
    """Subject A's baseline tumour assessment (the day before the first dose) and a follow-up,
    so that the efficacy writes reach the services."""
    subject = records["subject_a"]
    first = first_dose_day(subject)
    baseline = [
        {"code": "T1", "role": "target", "organ": "liver", "size_mm": "50"},
        {"code": "T2", "role": "target", "organ": "lung", "size_mm": "30"},
        {"code": "NT1", "role": "non-target", "organ": "bone", "measurable_by_nature": False},
    ]
    tumour_assessment_record(
        by=coordinator_a, subject=subject, kind="baseline", method="CT",
        assessed_on=first - timedelta(days=1), lesions=baseline,
    )  # fmt: skip
    follow = [
        {"code": "T1", "status": "measured", "size_mm": "45"},
        {"code": "T2", "status": "measured", "size_mm": "28"},
        {"code": "NT1", "status": "present"},
    ]
    tumour_assessment_record(
        by=coordinator_a, subject=subject, kind="follow_up", method="CT",
        assessed_on=first + timedelta(days=14), lesions=follow, investigator_response="SD",
    )  # fmt: skip
    return records


@pytest.fixture
def bearer(coordinator_a):
    def fresh():
        # A fresh token per request: a generated DELETE /tokens/{id}/ may revoke the last one.
        return {"Authorization": f"Bearer {token_create(by=coordinator_a, name='fuzz').secret}"}

    return fresh


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented_and_never_5xx(case, bearer, tumour_records):
    case.call_and_validate(headers=bearer(), checks=CHECKS)


reads = schema.include(method="GET")


@reads.parametrize()
@settings(
    max_examples=max(4, MAX_EXAMPLES // 2),
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_reads_take_exactly_what_the_document_allows(case, sponsor, records):
    """Query parameters the document refuses (an empty date-time, a boolean spelled otherwise,
    a cursor of another form) answer 400, and what it allows is never refused as malformed:
    the document states exactly what the server reads."""
    secret = token_create(by=sponsor, name="fuzz").secret
    case.call_and_validate(
        headers={"Authorization": f"Bearer {secret}"},
        checks=[negative_data_rejection, positive_data_acceptance],
    )
