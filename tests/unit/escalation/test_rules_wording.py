"""Recommendations read as words: the titration trigger is named as the protocol states it, never
by the setting's code."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from escalation.rules import (
    AdverseEvent,
    DesignSettings,
    Dose,
    DoseLevel,
    Subject,
    TitrationTrigger,
    Track,
    recommend,
)

FIRST = date(2026, 1, 5)
LEVELS = (DoseLevel(1, "0.01 mg/kg"), DoseLevel(2, "0.03 mg/kg"), DoseLevel(3, "0.1 mg/kg"))


def _track(event: AdverseEvent) -> Track:
    subject = Subject("101-001", 1, doses=(Dose(FIRST),), adverse_events=(event,))
    return Track(
        name="Q3W",
        regimen="Q3W",
        dose_levels=LEVELS,
        dlt_window_days=21,
        planned_infusion_days=(1,),
        titration=True,
        subjects=(subject,),
    )


@pytest.mark.parametrize(
    ("setting", "event", "words"),
    [
        (
            TitrationTrigger.DLT_OR_RELATED_GRADE2,
            AdverseEvent(FIRST + timedelta(days=3), 2, True, term="Rash"),
            "titration trigger: a DLT or a related grade >= 2 AE, at 0.01 mg/kg",
        ),
        (
            TitrationTrigger.DLT_ONLY,
            AdverseEvent(FIRST + timedelta(days=3), 3, True, dlt_investigator=True),
            "titration trigger: a DLT only, at 0.01 mg/kg",
        ),
    ],
)
def test_the_trigger_is_named_in_words(setting, event, words) -> None:
    recommendation = recommend(
        DesignSettings(titration_trigger=setting), _track(event), FIRST + timedelta(days=30)
    )
    assert words in recommendation.text
    assert setting.value not in recommendation.text


def test_every_trigger_has_words() -> None:
    for setting in TitrationTrigger:
        assert setting.label and "_" not in setting.label
