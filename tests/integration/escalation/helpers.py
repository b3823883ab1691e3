from datetime import timedelta

from safety.models import CtcaeTerm
from safety.services import adverse_event_report


def report_dlt(
    by, subject, *, onset_days_after_dose=5, term="Neutrophil count decreased", grade=3, **extra
):
    first = subject.dose_administrations.order_by("administered_on").first().administered_on
    values = dict(
        by=by,
        subject=subject,
        ctcae_term=CtcaeTerm.objects.get(term=term),
        verbatim_term=term.lower(),
        grade=grade,
        onset_date=first + timedelta(days=onset_days_after_dose),
        relationship="probable",
        action_taken="delayed",
        outcome="not_recovered",
        dlt_investigator=True,
    )
    values.update(extra)
    return adverse_event_report(**values)
