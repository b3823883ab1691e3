from tests.factories import reported_ae


def report_dlt(
    by, subject, *, onset_days_after_dose=5, term="Neutrophil count decreased", grade=3, **extra
):
    """The investigator's DLT call on a probably related event, `onset_days_after_dose` days
    after the subject's first dose."""
    values = {"relationship": "probable", "action_taken": "delayed", "dlt_investigator": True}
    return reported_ae(
        by,
        subject,
        term,
        grade=grade,
        days_after_first_dose=onset_days_after_dose,
        **(values | extra),
    )
