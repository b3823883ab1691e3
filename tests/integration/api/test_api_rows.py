"""The fast row writer gives exactly what DRF's own field-by-field serialization gives."""

import pytest
from rest_framework import serializers

from api.views.clinical import AdverseEventViewSet, DoseAdministrationViewSet, SubjectViewSet
from dosing.services import dose_void

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "viewset", [SubjectViewSet, DoseAdministrationViewSet, AdverseEventViewSet]
)
def test_fast_rows_equal_drfs_own(records, coordinator_b, viewset):
    dose_void(by=coordinator_b, dose=records["dose_b"], reason="Duplicate", expected_version=1)
    view = viewset()
    rows = list(view.base_queryset())
    assert rows
    serializer = viewset.serializer_class()
    for row in rows:
        fast = serializer.to_representation(row)
        drf = serializers.ModelSerializer.to_representation(serializer, row)
        assert fast == drf
        assert list(fast) == list(serializer.fields)
