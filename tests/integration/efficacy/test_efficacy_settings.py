"""The [efficacy] section of the protocol file: loaded with the study, audited, refused when
unknown or out of range (docs/efficacy.md §15)."""

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError

from efficacy.models import EfficacySettings
from trial.services import load_study

pytestmark = pytest.mark.django_db


def test_loaded_with_the_study_and_a_reload_records_nothing(study):
    loaded = EfficacySettings.objects.get(study=study)
    assert (loaded.assessment_every_weeks, loaded.confirmation_days) == (6, 28)
    assert (loaded.sd_minimum_days, loaded.baseline_window_days, loaded.km_conf_type) == (
        42,
        28,
        "log",
    )
    assert loaded.recist().describe().startswith("RECIST 1.1; confirmation >= 28 days")
    assert loaded.endpoints().gap_days == 2 * 42 + 7
    summary = load_study("mil97")
    assert not summary.changed
    assert loaded.history.count() == 1


def _variant(tmp_path, old: str, new: str) -> Path:
    source = (Path(django_settings.BASE_DIR) / "trial/protocols/mil97.toml").read_text()
    assert old in source
    path = tmp_path / "variant.toml"
    path.write_text(source.replace(old, new))
    return path


def test_a_changed_setting_is_updated_with_its_history(study, tmp_path):
    path = _variant(tmp_path, 'km_conf_type = "log"', 'km_conf_type = "log-log"')
    summary = load_study(str(path))
    assert "efficacy settings (km_conf_type)" in summary.updated
    loaded = EfficacySettings.objects.get(study=study)
    assert loaded.km_conf_type == "log-log"
    assert loaded.history.count() == 2


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("confirmation_days = 28", "confirmation_days = 21", "confirmation_days"),
        ('km_conf_type = "log"', 'km_conf_type = "plain"', "km_conf_type"),
        ("sd_minimum_days = 42", "sd_minimum_days = 42\nsd_minimum_weeks = 6", "sd_minimum_weeks"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_loaded(study, tmp_path, old, new, message):
    path = _variant(tmp_path, old, new)
    with pytest.raises(ValidationError) as excinfo:
        load_study(str(path), protocol_number="OTHER-1")
    assert message in str(excinfo.value.message_dict["efficacy"])
    assert not EfficacySettings.objects.filter(study__protocol_number="OTHER-1").exists()
