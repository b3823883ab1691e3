"""Each record's editable fields are stated once, by its service (`EDITABLE_FIELDS`): the
correction form of the pages and the API's update input take theirs from it."""

import pytest

from api import inputs
from dosing import services as dosing_services
from portal import forms
from safety import services as safety_services
from subjects import services as subject_services

RECORDS = [
    # (service's fields, correction form, API update input, fields the form leaves to a step)
    (
        subject_services.EDITABLE_FIELDS,
        forms.SubjectEditForm,
        inputs.SubjectUpdateInput,
        {
            "screen_failure_reason"  # corrected on the screen-failure step's own page
        },
    ),
    (dosing_services.EDITABLE_FIELDS, forms.DoseEditForm, inputs.DoseUpdateInput, set()),
    (
        safety_services.EDITABLE_FIELDS,
        forms.AdverseEventEditForm,
        inputs.AdverseEventUpdateInput,
        set(),
    ),
]


@pytest.mark.parametrize(("editable", "form_class", "input_class", "elsewhere"), RECORDS)
def test_form_and_api_input_take_the_services_fields(editable, form_class, input_class, elsewhere):
    assert form_class.editable_fields is editable
    form_fields = set(form_class.base_fields) | {
        name
        for name in editable
        if name.startswith("serious_")  # added per criterion
    }
    assert set(editable) - form_fields == elsewhere
    api_fields = {
        field.source or name
        for name, field in input_class().get_fields().items()
        if name != "reason"
    }
    assert api_fields == set(editable)


def test_a_field_the_service_does_not_edit_is_refused_by_name_in_the_api():
    data = {"reason": "per source", "subject_number": "101-009"}
    serializer = inputs.SubjectUpdateInput(data=data)
    assert not serializer.is_valid()
    assert "Unknown field" in serializer.errors["subject_number"][0]
