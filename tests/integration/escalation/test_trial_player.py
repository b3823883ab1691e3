"""The trial player: every scripted study in tests/scripts/trials/ played through the real
services (screening to dosing, AEs, ends of treatment, the committee signing each step with a
password, the clock moved forward) reaches the same signed steps and outcome as the rules core
played alone, and the outcome the script expects (docs/trial-player.md)."""

import json
import tomllib
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from core.models import Signature
from dosing.models import DoseAdministration
from escalation.models import CommitteeDecision, Notification, Recommendation
from escalation.player import play_trial
from escalation.rules import Action, EscalationInputError
from escalation.rules import play as pure
from subjects.models import Subject
from trial.models import Cohort, Study
from trial.services import protocol_path

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPTS = sorted((Path(__file__).resolve().parents[2] / "scripts" / "trials").glob("*.json"))
PROTOCOL = tomllib.loads(protocol_path("mil97").read_text(encoding="utf-8"))


def rules_alone(script: pure.Script) -> pure.PlayResult:
    design = {**PROTOCOL["design"], **script.settings}
    return pure.play(script, pure.protocol_from_file(PROTOCOL), pure.design_settings(design))


def test_at_least_20_scripts_cover_every_outcome_code_and_setting() -> None:
    scripts = [json.loads(path.read_text()) for path in SCRIPTS]
    assert len(scripts) >= 20
    codes = {c for s in scripts for c in pure.parse_script(s).subjects}
    assert codes == set(pure.CODES)
    settings = {(k, str(v)) for s in scripts for k, v in s.get("settings", {}).items()}
    for wanted in [
        ("titration_trigger", "dlt_only"),
        ("titration_trigger", "second_related_grade2"),
        ("exceeded_variant", "simple"),
        ("top_dose_rule", "fill_to_6"),
        ("top_dose_rule", "declare_at_3"),
    ]:
        assert wanted in settings, wanted
    outcomes = {s["expected"]["outcome"] for s in scripts}
    assert {"MTD", "MAD", "stop", "wait"} <= outcomes


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_the_services_and_the_rules_alone_agree(path, db) -> None:
    data = json.loads(path.read_text())
    script = pure.parse_script(data)

    played = play_trial(script)

    reference = rules_alone(script)
    assert played.result.summary() == reference.summary()
    expected = data["expected"]
    assert (played.result.outcome.kind, played.result.outcome.dose) == (
        expected["outcome"],
        expected["dose"],
    )
    assert len(played.result.steps) == expected["signed_steps"]
    assert played.result.not_enrolled == expected.get("not_enrolled", 0)
    # Every step was signed by the play's medical monitor, with its password, once.
    decisions = CommitteeDecision.objects.filter(track=played.track).order_by("decided_at")
    assert decisions.count() == len(played.result.steps)
    assert all(d.outcome == "confirmed" and d.signature.meaning == "approved" for d in decisions)
    assert [Action(d.recommendation.action) for d in decisions] == [
        s.action for s in played.result.steps
    ]
    # No step is asked twice: a cohort opened at a dose level is never followed by another
    # opened at the same level before anyone was enrolled in it.
    opened = [d.opened_cohort for d in decisions if d.opened_cohort is not None]
    for earlier, later in zip(opened, opened[1:], strict=False):
        if earlier.dose_level_id == later.dose_level_id:
            assert Subject.objects.filter(cohort=earlier).exists(), (earlier, later)


def test_the_command_prints_the_signed_steps_and_the_outcome() -> None:
    out = StringIO()
    call_command(
        "play_trial", str(SCRIPTS[0].parent / "mtd-expand-lower.json"), "--check", stdout=out
    )
    text = out.getvalue()
    assert "Signed steps (each confirmed by Player Monitor with a password):" in text
    assert "1. " in text and "escalate to 0.03 mg/kg Q3W, 1 subject(s)" in text
    assert "MTD 0.1 mg/kg Q3W: MTD = 0.1 mg/kg Q3W (1 DLT in 6 evaluable here" in text
    assert "Outcome: MTD 0.1 mg/kg Q3W" in text
    assert "Check: the services and the rules alone agree." in text


def test_the_check_fails_when_the_outcome_is_not_the_expected_one(tmp_path) -> None:
    script = tmp_path / "wrong.json"
    script.write_text(json.dumps({"subjects": "T TN", "expected": {"outcome": "MTD"}}))
    with pytest.raises(CommandError, match="expected outcome 'MTD', got 'stop'"):
        call_command("play_trial", str(script), "--check", stdout=StringIO())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param({"subjects": "NNQ"}, "'Q' not an outcome code", id="bad-code"),
        pytest.param({"subjects": 3}, "subjects: a list of outcome codes", id="not-a-list"),
        pytest.param({"subjects": "N", "setings": {}}, "unknown field(s) setings", id="typo"),
        pytest.param(
            {"subjects": "N", "settings": {"exceeded": "simple"}},
            "unknown design setting(s) ['exceeded']",
            id="bad-setting",
        ),
    ],
)
def test_a_bad_script_is_refused_naming_the_field(data, message) -> None:
    with pytest.raises(EscalationInputError) as excinfo:
        pure.parse_script(data)
    assert message in str(excinfo.value)


def test_playing_on_a_database_with_a_study_touches_no_other_study(study, l1_subject, cohort1):
    def snapshot():
        return (
            Subject.objects.filter(study=study).count(),
            Cohort.objects.filter(study=study).count(),
            Recommendation.objects.filter(track__study=study).count(),
            CommitteeDecision.objects.filter(track__study=study).count(),
            Notification.objects.filter(study=study).count(),
            list(Cohort.objects.filter(study=study).values_list("status", flat=True)),
        )

    before = snapshot()
    signatures = Signature.objects.count()

    played = play_trial(pure.parse_script({"subjects": "N N NPN"}))

    assert snapshot() == before
    assert played.study.protocol_number.startswith("PLAY-")
    assert played.study.pk != study.pk and Study.objects.count() == 2
    assert Signature.objects.count() == signatures + len(played.result.steps)
    # Nothing is dated after today, and the play's monitor has no e-mail (nothing is sent).
    today = timezone.now().date()
    assert played.ended_on <= today
    doses = DoseAdministration.objects.filter(subject__study=played.study)
    assert doses.exists() and max(d.administered_on for d in doses) <= today
    assert not Notification.objects.filter(study=played.study, sent_at__isnull=False).exists()
