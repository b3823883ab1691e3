"""Study configuration from the protocol file, and the CTCAE dictionary import."""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from safety.ctcae import import_ctcae
from safety.models import CtcaeTerm
from tests.conftest import REQUIRE_SERVICES
from trial.models import Cohort, DoseLevel, EscalationTrack, Regimen, Study
from trial.services import load_study

pytestmark = pytest.mark.django_db


def test_load_study_twice_gives_six_dose_levels_and_two_regimens():
    call_command("load_study", "mil97")
    first_history = Study.history.count() + DoseLevel.history.count() + Regimen.history.count()
    call_command("load_study", "mil97")

    study = Study.objects.get()
    assert study.protocol_number == "MIL97-001"
    amounts = list(
        DoseLevel.objects.filter(study=study).order_by("number").values_list("number", "amount")
    )
    assert amounts == [
        (1, Decimal("0.0100")),
        (2, Decimal("0.0300")),
        (3, Decimal("0.1000")),
        (4, Decimal("0.2000")),
        (5, Decimal("0.3000")),
        (6, Decimal("0.4500")),
    ]
    regimens = {r.code: r for r in Regimen.objects.filter(study=study)}
    assert set(regimens) == {"Q3W", "Q2W"}
    assert (regimens["Q3W"].interval_days, regimens["Q3W"].dlt_window_days) == (21, 21)
    assert (regimens["Q2W"].interval_days, regimens["Q2W"].dlt_window_days) == (14, 28)
    assert regimens["Q2W"].dlt_window_infusion_days() == [1, 15]
    assert regimens["Q3W"].dlt_window_infusion_days() == [1]
    # The second load recorded no change at all.
    assert (
        Study.history.count() + DoseLevel.history.count() + Regimen.history.count() == first_history
    )


def test_study_design_settings_come_from_the_protocol_file(study):
    assert study.titration_levels == 2
    assert study.titration_trigger == Study.TitrationTrigger.DLT_OR_RELATED_GRADE2
    assert study.exceeded_variant == Study.ExceededVariant.EXPAND_LOWER
    assert study.dlt_window_convention == Study.WindowConvention.INCLUSIVE
    assert study.min_exposure_fraction == Decimal("1.000")
    assert study.expansion_cohort_size == 10
    tracks = {t.code: t for t in EscalationTrack.objects.filter(study=study)}
    assert tracks["Q3W-ESC"].uses_titration and tracks["Q3W-ESC"].status == "active"
    assert not tracks["Q2W-ESC"].uses_titration and tracks["Q2W-ESC"].status == "planned"
    cohort = Cohort.objects.get(study=study)
    assert (cohort.number, cohort.dose_level.number, cohort.planned_size, cohort.status) == (
        1,
        1,
        1,
        "open",
    )
    assert cohort.is_titration and cohort.phase == "escalation" and cohort.regimen.code == "Q3W"
    assert len(study.inclusion_criteria()) >= 5 and len(study.exclusion_criteria()) >= 3


def test_reloading_does_not_reopen_a_cohort_moved_on_by_the_committee(study):
    cohort = Cohort.objects.get(study=study, number=1)
    cohort.status = Cohort.Status.CLOSED
    cohort.closed_at = cohort.opened_at
    cohort._change_reason = "test: closed by decision"
    cohort.save()
    load_study("mil97")
    cohort.refresh_from_db()
    assert cohort.status == Cohort.Status.CLOSED


def test_another_study_is_a_new_file(tmp_path):
    source = (Path(settings.BASE_DIR) / "trial/protocols/mil97.toml").read_text()
    other = source.replace('protocol_number = "MIL97-001"', 'protocol_number = "XYZ-002"').replace(
        'exceeded_variant = "expand_lower"', 'exceeded_variant = "simple"'
    )
    path = tmp_path / "xyz.toml"
    path.write_text(other)
    summary = load_study(str(path))
    assert summary.study.protocol_number == "XYZ-002"
    assert summary.study.exceeded_variant == "simple"
    assert summary.study.dose_levels.count() == 6


def test_unknown_design_setting_is_refused(tmp_path):
    source = (Path(settings.BASE_DIR) / "trial/protocols/mil97.toml").read_text()
    path = tmp_path / "bad.toml"
    path.write_text(source.replace("cohort_size = 3", "cohort_size = 3\ncohort_sise = 4"))
    with pytest.raises(Exception, match="cohort_sise"):
        load_study(str(path))
    assert not Study.objects.exists()


def workbook_path() -> str:
    path = settings.CTCAE_WORKBOOK
    if not path or not os.path.exists(path):
        if REQUIRE_SERVICES:
            pytest.fail(f"CTCAE_WORKBOOK must point at the NCI workbook in CI (got {path!r})")
        pytest.skip("set CTCAE_WORKBOOK to the NCI CTCAE v5.0 workbook")
    return path


def test_import_ctcae_loads_837_terms_and_is_idempotent():
    path = workbook_path()
    call_command("import_ctcae", path)
    assert CtcaeTerm.objects.count() == 837
    assert CtcaeTerm.objects.values("soc").distinct().count() == 26
    anemia = CtcaeTerm.objects.get(term="Anemia")
    assert anemia.meddra_code == 10002272
    assert anemia.soc == "Blood and lymphatic system disorders"
    assert anemia.grades == [1, 2, 3, 4, 5]
    assert anemia.grade_text(5) == "Death"
    fatigue = CtcaeTerm.objects.get(term="Fatigue")
    assert fatigue.grades == [1, 2, 3]  # " -" cells are grades that do not exist
    history_rows = CtcaeTerm.history.count()
    summary = import_ctcae(path)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 837)
    assert CtcaeTerm.history.count() == history_rows


def test_import_ctcae_without_a_workbook_loads_the_starter_set(capsys, settings):
    settings.CTCAE_WORKBOOK = ""
    call_command("import_ctcae")
    out = capsys.readouterr().out
    assert CtcaeTerm.objects.count() == 76  # 50 common terms and the 26 "Other, specify"
    assert "import_ctcae PATH" in out


def test_import_ctcae_refuses_a_file_that_is_not_the_workbook(tmp_path):
    path = tmp_path / "nope.xlsx"
    path.write_text("not a workbook")
    with pytest.raises(Exception, match="not an Excel workbook"):
        call_command("import_ctcae", str(path))
    assert CtcaeTerm.objects.count() == 0
