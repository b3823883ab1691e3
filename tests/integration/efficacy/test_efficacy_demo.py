"""The demo study carries a baseline and a follow-up tumour assessment; loading again adds none."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import User
from efficacy.models import TumourAssessment
from efficacy.selectors import study_efficacy
from trial.models import Study

pytestmark = pytest.mark.django_db


def test_demo_assessments(study):
    call_command("load_demo", verbosity=0)
    call_command("load_demo", verbosity=0)
    assert TumourAssessment.objects.count() == 2
    page = study_efficacy(User.objects.get(username="monitor"), Study.objects.get().pk)
    (subject,) = [s for s in page.subjects if s.scans]
    (point,) = subject.time_points
    # 29 + 16 + 11 = 56 of 82: 31.7% below baseline
    assert (point.response, point.target.change_from_baseline_pct) == ("PR", Decimal("-31.7"))
    # a single PR before the SD minimum of 42 days is not a response yet
    assert subject.best.response == "NE"
