"""Time-to-event endpoints per subject: PFS, OS and duration of response (docs/efficacy.md §9-§10).

Sources: FDA guidance for industry "Clinical Trial Endpoints for the Approval of Cancer Drugs and
Biologics" (December 2018), and its May 2007 edition: section III.B (an adequate assessment is a
visit where all scheduled tumour assessments were done) and Appendix 3, Table A (PFS dates and
censoring: progression at the first scan showing it, death; censoring at the last adequate
assessment, before new anticancer therapy, and before an event that follows two or more missed
visits). RECIST 1.1 §4.6.2 and §4.7 for duration of response and PFS.

Start = the first dose (the MIL97 synopsis); days = end - start + 1. Every result carries the rule
that produced it, with the CNSR code, EVNTDESC and CNSDTDSC an ADaM ADTTE record would hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from .errors import EfficacyInputError, positive_days
from .recist import BestOverallResponse, Response, TimePointResult
from .version import RULES_VERSION

DAYS_PER_MONTH = Decimal("30.4375")  # 365.25 / 12, the usual convention for months


class Endpoint(StrEnum):
    PFS = "PFS"
    OS = "OS"
    DOR = "DOR"


class EndpointRule(StrEnum):
    """Why a subject's time ends where it does (§10). `cnsr` is the ADaM CNSR value."""

    PROGRESSION = "event: first documented progression (date of the first scan showing it)"
    DEATH = "event: death from any cause"
    NO_BASELINE = "censored on day 1: no baseline tumour assessment"
    NO_ADEQUATE_ASSESSMENT = "censored on day 1: no adequate post-baseline assessment, no event"
    NEW_THERAPY = "censored at the last adequate assessment before new anticancer therapy"
    MISSED_ASSESSMENTS = (
        "censored at the last adequate assessment before 2 or more missed assessments"
    )
    LAST_ASSESSMENT = "censored at the last adequate tumour assessment: no event"
    ALIVE = "censored at the last date known alive"

    @property
    def cnsr(self) -> int:
        return _CNSR[self]

    @property
    def event(self) -> bool:
        return self.cnsr == 0

    @property
    def description(self) -> str:
        """EVNTDESC for an event, CNSDTDSC for a censoring."""
        return _DESCRIPTION[self]


_CNSR = {
    EndpointRule.PROGRESSION: 0,
    EndpointRule.DEATH: 0,
    EndpointRule.LAST_ASSESSMENT: 1,
    EndpointRule.NO_ADEQUATE_ASSESSMENT: 2,
    EndpointRule.NO_BASELINE: 3,
    EndpointRule.NEW_THERAPY: 4,
    EndpointRule.MISSED_ASSESSMENTS: 5,
    EndpointRule.ALIVE: 1,
}
_DESCRIPTION = {
    EndpointRule.PROGRESSION: "DISEASE PROGRESSION",
    EndpointRule.DEATH: "DEATH",
    EndpointRule.LAST_ASSESSMENT: "LAST ADEQUATE TUMOR ASSESSMENT",
    EndpointRule.NO_ADEQUATE_ASSESSMENT: "NO ADEQUATE POST-BASELINE TUMOR ASSESSMENT",
    EndpointRule.NO_BASELINE: "NO BASELINE TUMOR ASSESSMENT",
    EndpointRule.NEW_THERAPY: "LAST ADEQUATE TUMOR ASSESSMENT BEFORE NEW ANTICANCER THERAPY",
    EndpointRule.MISSED_ASSESSMENTS: "LAST ADEQUATE TUMOR ASSESSMENT BEFORE MISSED ASSESSMENTS",
    EndpointRule.ALIVE: "LAST KNOWN ALIVE DATE",
}


@dataclass(frozen=True)
class EndpointSettings:
    """The protocol's tumour assessment schedule, for the missed-assessment rule (§10).

    An event is censored when it comes after `missed_assessments` scheduled assessments in a row
    were missed: later than last adequate assessment + `missed_assessments` x
    `assessment_interval_days` + `assessment_window_days`.
    """

    assessment_interval_days: int = 42
    assessment_window_days: int = 7
    missed_assessments: int = 2

    def __post_init__(self) -> None:
        positive_days(self.assessment_interval_days, "assessment_interval_days")
        positive_days(self.assessment_window_days, "assessment_window_days", allow_zero=True)
        positive_days(self.missed_assessments, "missed_assessments")

    @property
    def gap_days(self) -> int:
        """The longest allowed stretch from the last adequate assessment to an event."""
        return self.missed_assessments * self.assessment_interval_days + self.assessment_window_days

    def describe(self) -> str:
        return (
            f"assessments every {self.assessment_interval_days} days "
            f"(window {self.assessment_window_days}); an event more than {self.gap_days} days "
            f"after the last adequate assessment ({self.missed_assessments} missed) is censored"
        )


@dataclass(frozen=True)
class TumourAssessment:
    """One post-baseline time point as the endpoints see it.

    `adequate`: every scheduled lesion assessed and the response not NE (FDA 2007 §III.B).
    """

    assessed_on: date
    response: Response
    adequate: bool

    @classmethod
    def from_time_point(cls, point: TimePointResult) -> TumourAssessment:
        return cls(point.assessed_on, point.response, point.adequate)


def from_time_points(points: Iterable[TimePointResult]) -> tuple[TumourAssessment, ...]:
    """The derived RECIST time points as endpoint inputs."""
    return tuple(TumourAssessment.from_time_point(point) for point in points)


@dataclass(frozen=True)
class SubjectFollowUp:
    """What the endpoints of one subject are derived from.

    - `assessments`: post-baseline tumour assessments (after the first dose).
    - `baseline_assessed`: False when no baseline tumour assessment was done.
    - `death_on`: date of death from any cause.
    - `last_known_alive_on`: the last date the subject was known alive (needed for OS without a
      death).
    - `new_therapy_on`: start of new anticancer therapy.
    """

    subject: str
    first_dose_on: date
    assessments: tuple[TumourAssessment, ...] = ()
    baseline_assessed: bool = True
    death_on: date | None = None
    last_known_alive_on: date | None = None
    new_therapy_on: date | None = None

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.assessments, key=lambda a: a.assessed_on))
        object.__setattr__(self, "assessments", ordered)
        name = f"subject {self.subject}"
        dates = [a.assessed_on for a in ordered]
        if len(set(dates)) != len(dates):
            raise EfficacyInputError(f"{name}: two tumour assessments on one date")
        for assessment in ordered:
            if assessment.assessed_on <= self.first_dose_on:
                raise EfficacyInputError(
                    f"{name}: assessment of {assessment.assessed_on} is not after the first dose "
                    f"({self.first_dose_on}); baseline assessments are not endpoint data"
                )
        if self.death_on is not None:
            if self.death_on < self.first_dose_on:
                raise EfficacyInputError(f"{name}: death_on is before the first dose")
            if dates and dates[-1] > self.death_on:
                raise EfficacyInputError(
                    f"{name}: a tumour assessment ({dates[-1]}) after death ({self.death_on})"
                )
            if self.last_known_alive_on is not None and self.last_known_alive_on > self.death_on:
                raise EfficacyInputError(f"{name}: last_known_alive_on is after death_on")
        if self.last_known_alive_on is not None:
            if self.last_known_alive_on < self.first_dose_on:
                raise EfficacyInputError(f"{name}: last_known_alive_on is before the first dose")
            if dates and dates[-1] > self.last_known_alive_on:
                raise EfficacyInputError(
                    f"{name}: last_known_alive_on ({self.last_known_alive_on}) is before a tumour "
                    f"assessment ({dates[-1]}), when the subject was alive"
                )


@dataclass(frozen=True)
class TimeToEvent:
    """One subject's time for one endpoint, as an ADaM ADTTE record would carry it."""

    endpoint: Endpoint
    subject: str
    start_on: date
    end_on: date
    rule: EndpointRule
    reason: str
    settings: str = ""
    rules_version: str = RULES_VERSION

    @property
    def event(self) -> bool:
        return self.rule.event

    @property
    def cnsr(self) -> int:
        return self.rule.cnsr

    @property
    def description(self) -> str:
        return self.rule.description

    @property
    def days(self) -> int:
        """AVAL in days: end - start + 1 (the start day is day 1)."""
        return (self.end_on - self.start_on).days + 1

    @property
    def months(self) -> Decimal:
        return Decimal(self.days) / DAYS_PER_MONTH


def new_anticancer_therapy_on(first_dose_on: date, starts: Iterable[date]) -> date | None:
    """The start of new anticancer therapy the endpoints use (§6, §10): the earliest of the
    starts recorded, on or after the first dose. A start before the first dose is not a new
    therapy (prior therapy, or an error to query) and is left out; the caller reports it."""
    counted = [start for start in starts if start >= first_dose_on]
    return min(counted) if counted else None


def last_known_alive(
    first_dose_on: date,
    dated: Iterable[tuple[date | None, str]],
    *,
    death_on: date | None = None,
) -> tuple[date, str] | None:
    """The last date known alive for OS censoring (§9) and where it comes from: the latest of
    the dated facts (`(date, source)`: survival contacts, visits done, doses, tumour
    assessments) on or after the first dose; the first dose itself when there is nothing
    later. None after a death: OS ends at the death. The first source listed wins a tie."""
    if death_on is not None:
        return None
    found = [(on, source) for on, source in dated if on is not None and on >= first_dose_on]
    if not found:
        return first_dose_on, "first dose"
    return max(found, key=lambda item: item[0])


def _last_adequate(
    assessments: Iterable[TumourAssessment], *, after: date, until: date, inclusive: bool
) -> date | None:
    dates = [
        a.assessed_on
        for a in assessments
        if a.adequate
        and a.assessed_on >= after
        and (a.assessed_on <= until if inclusive else a.assessed_on < until)
    ]
    return max(dates) if dates else None


def _progression_or_death(
    endpoint: Endpoint,
    settings: EndpointSettings,
    facts: SubjectFollowUp,
    start: date,
) -> TimeToEvent:
    """PFS, or DoR from `start`: the FDA 2007 Appendix 3 Table A rules in their order (§10)."""
    described = settings.describe()

    def end(on: date, rule: EndpointRule, reason: str) -> TimeToEvent:
        return TimeToEvent(endpoint, facts.subject, start, on, rule, reason, described)

    if endpoint is Endpoint.PFS and not facts.baseline_assessed:
        return end(start, EndpointRule.NO_BASELINE, "no baseline tumour assessment")
    assessments = [a for a in facts.assessments if a.assessed_on >= start]
    progression = next((a.assessed_on for a in assessments if a.response is Response.PD), None)
    events = [(on, rule) for on, rule in ((progression, EndpointRule.PROGRESSION),
                                          (facts.death_on, EndpointRule.DEATH)) if on is not None]  # fmt: skip
    event_on, event_rule = min(events, key=lambda e: e[0]) if events else (None, None)

    therapy = facts.new_therapy_on
    if therapy is not None and (event_on is None or therapy < event_on):
        # New anticancer therapy first: censor at the last adequate assessment on or before its
        # start (a scan on that day was done before the therapy).
        last = _last_adequate(assessments, after=start, until=therapy, inclusive=True)
        what = f"new anticancer therapy on {therapy}"
        if event_on is not None:
            what += f", before the {event_rule_word(event_rule)} on {event_on}"
        return end(
            last or start,
            EndpointRule.NEW_THERAPY,
            f"{what}; last adequate assessment "
            + (last.isoformat() if last else "none: censored on day 1"),
        )
    if event_on is not None and event_rule is not None:
        last = _last_adequate(assessments, after=start, until=event_on, inclusive=False)
        reference = last or start
        limit = reference + timedelta(days=settings.gap_days)
        if event_on > limit:
            return end(
                reference,
                EndpointRule.MISSED_ASSESSMENTS,
                f"{event_rule_word(event_rule)} on {event_on}, "
                f"{(event_on - reference).days} days after "
                + (f"the last adequate assessment ({last})" if last else "day 1 (no adequate "
                   "assessment)")
                + f": more than {settings.gap_days} days",
            )  # fmt: skip
        return end(event_on, event_rule, f"{event_rule_word(event_rule)} on {event_on}")
    last = _last_adequate(assessments, after=start, until=date.max, inclusive=True)
    if last is None:
        return end(
            start, EndpointRule.NO_ADEQUATE_ASSESSMENT, "no adequate assessment, no progression"
        )
    return end(last, EndpointRule.LAST_ASSESSMENT, f"last adequate assessment on {last}")


def event_rule_word(rule: EndpointRule | None) -> str:
    return "death" if rule is EndpointRule.DEATH else "progression"


def progression_free_survival(settings: EndpointSettings, facts: SubjectFollowUp) -> TimeToEvent:
    """PFS from the first dose to progression or death, censored by the rules of §10."""
    return _progression_or_death(Endpoint.PFS, settings, facts, facts.first_dose_on)


def overall_survival(facts: SubjectFollowUp) -> TimeToEvent:
    """OS from the first dose to death from any cause, else censored at the last date known
    alive (§9)."""
    if facts.death_on is not None:
        return TimeToEvent(
            Endpoint.OS,
            facts.subject,
            facts.first_dose_on,
            facts.death_on,
            EndpointRule.DEATH,
            f"death on {facts.death_on}",
        )
    if facts.last_known_alive_on is None:
        raise EfficacyInputError(
            f"subject {facts.subject}: OS needs death_on or last_known_alive_on"
        )
    return TimeToEvent(
        Endpoint.OS,
        facts.subject,
        facts.first_dose_on,
        facts.last_known_alive_on,
        EndpointRule.ALIVE,
        f"alive on {facts.last_known_alive_on}",
    )


def duration_of_response(
    settings: EndpointSettings, facts: SubjectFollowUp, best: BestOverallResponse
) -> TimeToEvent | None:
    """DoR for a responder: from the first CR/PR later confirmed to progression or death, with
    the PFS censoring rules (RECIST 1.1 §4.6.2; §9). None for a subject without a response."""
    if not best.is_response or best.response_started_on is None:
        return None
    return _progression_or_death(Endpoint.DOR, settings, facts, best.response_started_on)
