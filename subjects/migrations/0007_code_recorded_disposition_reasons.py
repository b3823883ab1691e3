"""Code the disposition reasons recorded before reasons were coded (docs/subjects.md §2).

Each subject with an end of treatment or end of study date and no coded reason gets one, read
from the reason the site wrote: DEATH when the subject died that day; the reason whose words the
text gives (a fixed table of the phrasings the pages suggested, below); otherwise OTHER. The
text is kept, unchanged, as the reason's "specify" detail, so nothing is lost. Each coded subject
gets a new version and a history row saying why (the audit trail is append-only: earlier rows stay
as they were). The table is frozen here, as this migration ran, rather than read from the code.
"""

from django.db import migrations
from django.utils import timezone

REASON = "Disposition reasons coded (CDISC NCOMPLT) from the reasons recorded; the text is kept"

# The text (upper case, trailing full stop and curly apostrophes undone) -> the coded reason.
PHRASES = {
    "COMPLETED": "COMPLETED",
    "TREATMENT COMPLETED": "COMPLETED",
    "STUDY COMPLETED": "COMPLETED",
    "FOLLOW-UP COMPLETED": "COMPLETED",
    "ADVERSE EVENT": "ADVERSE EVENT",
    "TOXICITY": "ADVERSE EVENT",
    "UNACCEPTABLE TOXICITY": "ADVERSE EVENT",
    "PROGRESSIVE DISEASE": "PROGRESSIVE DISEASE",
    "DISEASE PROGRESSION": "PROGRESSIVE DISEASE",
    "PROGRESSION": "PROGRESSIVE DISEASE",
    "CLINICAL PROGRESSION": "PROGRESSIVE DISEASE",
    "DEATH": "DEATH",
    "DIED": "DEATH",
    "PHYSICIAN DECISION": "PHYSICIAN DECISION",
    "INVESTIGATOR DECISION": "PHYSICIAN DECISION",
    "INVESTIGATOR'S DECISION": "PHYSICIAN DECISION",
    "WITHDRAWAL BY SUBJECT": "WITHDRAWAL BY SUBJECT",
    "SUBJECT DECISION": "WITHDRAWAL BY SUBJECT",
    "SUBJECT'S DECISION": "WITHDRAWAL BY SUBJECT",
    "PATIENT DECISION": "WITHDRAWAL BY SUBJECT",
    "PATIENT'S DECISION": "WITHDRAWAL BY SUBJECT",
    "WITHDRAWAL OF CONSENT": "WITHDRAWAL OF CONSENT",
    "CONSENT WITHDRAWN": "WITHDRAWAL OF CONSENT",
    "WITHDREW CONSENT": "WITHDRAWAL OF CONSENT",
    "LOST TO FOLLOW-UP": "LOST TO FOLLOW-UP",
    "LOST TO FOLLOW UP": "LOST TO FOLLOW-UP",
    "NON-COMPLIANCE WITH STUDY DRUG": "NON-COMPLIANCE WITH STUDY DRUG",
    "PROTOCOL DEVIATION": "PROTOCOL DEVIATION",
    "PREGNANCY": "PREGNANCY",
    "STUDY TERMINATED BY SPONSOR": "STUDY TERMINATED BY SPONSOR",
}
END_OF_STUDY = {
    "COMPLETED",
    "DEATH",
    "WITHDRAWAL BY SUBJECT",
    "WITHDRAWAL OF CONSENT",
    "LOST TO FOLLOW-UP",
    "PHYSICIAN DECISION",
    "ADVERSE EVENT",
    "PROGRESSIVE DISEASE",
    "STUDY TERMINATED BY SPONSOR",
}


def coded(text: str, day, death_date, *, allowed=None) -> str:
    if death_date is not None and day == death_date:
        return "DEATH"
    words = " ".join(text.replace("\u2019", "'").upper().split()).rstrip(".")
    code = PHRASES.get(words, "OTHER")
    if code == "DEATH" or (allowed is not None and code not in allowed):
        return "OTHER"  # "Death" without that date of death: the text says more than the code
    return code


def code_reasons(apps, schema_editor):
    Subject = apps.get_model("subjects", "Subject")
    History = apps.get_model("subjects", "HistoricalSubject")
    fields = [f.attname for f in Subject._meta.concrete_fields]
    now = timezone.now()
    for subject in Subject._default_manager.order_by("pk").iterator():
        changes = {}
        if subject.end_of_treatment_date and not subject.end_of_treatment_reason_code:
            changes["end_of_treatment_reason_code"] = coded(
                subject.end_of_treatment_reason,
                subject.end_of_treatment_date,
                subject.death_date,
            )
        if subject.end_of_study_date and not subject.end_of_study_reason_code:
            changes["end_of_study_reason_code"] = coded(
                subject.end_of_study_reason,
                subject.end_of_study_date,
                subject.death_date,
                allowed=END_OF_STUDY,
            )
        if not changes:
            continue
        changes |= {"version": subject.version + 1, "updated_at": now}
        Subject._default_manager.filter(pk=subject.pk).update(**changes)
        for name, value in changes.items():
            setattr(subject, name, value)
        History._default_manager.create(
            **{name: getattr(subject, name) for name in fields},
            history_date=now,
            history_type="~",
            history_change_reason=REASON,
            history_user=None,
        )


class Migration(migrations.Migration):
    dependencies = [("subjects", "0006_race_ethnicity_coded_disposition")]

    operations = [migrations.RunPython(code_reasons, migrations.RunPython.noop, elidable=False)]
