"""Reads of adverse events and the CTCAE dictionary, scoped to the user through
`accounts.scoping`: the term search, the DLT calls in words, who adjudicated an event."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Trim

from accounts.scoping import monitoring_studies, restrict

from .models import PROPOSED_DLT, AdverseEvent, CtcaeTerm
from .rules import Emergence, treatment_emergence


def first_dose_local(
    first_dose_start: datetime | None, tz_name: str
) -> tuple[date | None, time | None]:
    """The day and the minute the first infusion started (aware `first_dose_start`), in the
    site's local time: what `treatment_emergence` compares an onset with (docs/safety.md §3)."""
    if first_dose_start is None:
        return None, None
    local = first_dose_start.astimezone(ZoneInfo(tz_name))
    return local.date(), local.time().replace(second=0, microsecond=0)


def emergence_of(event, first_dose_start: datetime | None, tz_name: str) -> Emergence:
    """Whether the event is treatment-emergent (docs/safety.md §3): `first_dose_start` is the
    start of the subject's first infusion (aware), judged in the site's local time."""
    first_dose_date, first_dose_time = first_dose_local(first_dose_start, tz_name)
    return treatment_emergence(
        onset_date=event.onset_date,
        onset_time=event.onset_time,
        first_dose_date=first_dose_date,
        first_dose_time=first_dose_time,
        grade=event.grade,
        baseline_grade=event.baseline_grade,
    )


def search_terms(query: str, limit: int = 30) -> list[CtcaeTerm]:
    """By term (words in any order) or by MedDRA code; terms starting with the query first."""
    query = (query or "").strip()
    if not query:
        return []
    terms = CtcaeTerm.objects.all()
    if query.isdigit():
        terms = terms.annotate(code_text=Cast("meddra_code", CharField())).filter(
            code_text__startswith=query
        )
    else:
        for word in query.split()[:6]:
            terms = terms.filter(Q(term__icontains=word) | Q(soc__icontains=word))
    found = list(terms.order_by("term")[:200])
    lowered = query.lower()
    found.sort(
        key=lambda t: (
            not t.term.lower().startswith(lowered),
            lowered not in t.term.lower(),
            t.term,
        )
    )
    return found[:limit]


def with_adjudicator(queryset):
    """Adverse events annotated with who made the committee's DLT call (`adjudicator`, None when
    not adjudicated), from the audit trail: the first history row carrying the call's current
    time. A subquery of the same query, so pages keep a fixed number of queries."""
    rows = AdverseEvent.history.filter(
        id=OuterRef("pk"), dlt_adjudicated_at=OuterRef("dlt_adjudicated_at")
    ).order_by("history_id")
    name = NullIf(
        Trim(Concat("history_user__first_name", Value(" "), "history_user__last_name")), Value("")
    )
    who = rows.annotate(who=Coalesce(name, "history_user__username")).values("who")[:1]
    return queryset.annotate(adjudicator=Subquery(who, output_field=CharField()))


def dlt_calls_text(event) -> str:
    """Both DLT calls in words, e.g. "investigator: DLT; committee: not a DLT"."""
    investigator = "DLT" if event.dlt_investigator else "not a DLT"
    # Also given rows read as values, not models: the model's dlt_awaiting_attestation, restated.
    if event.dlt_investigator and event.dlt_attested_at is None:
        investigator += f" ({PROPOSED_DLT_CALL})"
    if event.dlt_adjudicated is None:
        committee = "not adjudicated"
    else:
        committee = "DLT" if event.dlt_adjudicated else "not a DLT"
    return f"investigator: {investigator}; committee: {committee}"


DLT_FINAL = Q(dlt_adjudicated=True) | Q(dlt_adjudicated__isnull=True, dlt_investigator=True)

# A DLT call that counts (not adjudicated) and awaits the investigator's attestation
# (docs/safety.md §8): it counts as a DLT, and the committee cannot sign on it.
AWAITING_ATTESTATION = PROPOSED_DLT & Q(dlt_adjudicated__isnull=True)

PROPOSED_DLT_CALL = "proposed, awaiting investigator attestation"


def visible_adverse_event(user, pk: int) -> AdverseEvent:
    """An adverse event of one of the user's dashboard studies (else DoesNotExist), with what
    its page shows: the subject, site, cohort, DLT status and who adjudicated it."""
    studies = [s.pk for s in monitoring_studies(user)]
    return (
        with_adjudicator(restrict(AdverseEvent.objects.filter(subject__study_id__in=studies), user))
        .select_related(
            "ctcae_term",
            "subject__study",
            "subject__site",
            "subject__cohort__dose_level",
            "subject__cohort__track__regimen",
            "subject__dlt_status",
        )
        .get(pk=pk)
    )
