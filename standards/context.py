"""What a domain mapping reads: the study's records as they are now or as they were at a data
cut, and the per-subject derivations every domain shares (USUBJID, RFSTDTC, --DY, EPOCH, arms,
visits).

A data cut reads the audit history (django-simple-history, `history.as_of`): each record as its
last change at or before the cut left it; records voided by then are left out, like voided
records everywhere else (docs/audit.md; docs/standards.md §6). Without a cut the live tables are
read, all at the start, so one export sees one state of the data.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from functools import cached_property
from typing import Any

import pycountry
from django.db import models

from dosing.models import DoseAdministration
from safety.models import AdverseEvent, CtcaeTerm
from subjects.models import Subject
from trial.models import Cohort, DoseLevel, EscalationTrack, Regimen, Site, Study

from .timing import complete_date, dtc, study_day

EPOCH_SCREENING = "SCREENING"
EPOCH_TREATMENT = "TREATMENT"
EPOCH_FOLLOW_UP = "FOLLOW-UP"
SCREENING_VISITNUM = 1
# Regimen interval (days) -> CDISC CT FREQ (C71113) submission value.
FREQUENCIES = {14: "EVERY 2 WEEKS", 21: "EVERY 3 WEEKS"}


class ExportContext:
    def __init__(self, study: Study, *, as_of: datetime | None = None):
        self.study = study
        self.as_of = as_of
        self._cache: dict[type, list] = {}

    # --- reading records -------------------------------------------------------------------

    def records(self, model: type[models.Model]) -> list[Any]:
        """The study's rows of `model`: as of the cut when there is one, voided rows left out."""
        if model not in self._cache:
            self._cache[model] = self._load(model)
        return self._cache[model]

    def _load(self, model):
        if self.as_of is not None:
            rows = list(model.history.as_of(self.as_of))
        else:
            manager = getattr(model, "all_objects", model.objects)
            rows = list(manager.all())
        rows = [r for r in rows if getattr(r, "voided_at", None) is None]
        return [r for r in rows if self._in_study(r)]

    def _in_study(self, row) -> bool:
        if hasattr(row, "study_id"):
            return row.study_id == self.study.pk
        if hasattr(row, "subject_id"):
            return row.subject_id in self.subjects_by_id
        return True

    @cached_property
    def subjects_by_id(self) -> dict[int, Subject]:
        return {s.pk: s for s in self.records(Subject)}

    @cached_property
    def sites(self) -> dict[int, Site]:
        return {s.pk: s for s in Site.objects.filter(study=self.study)}

    @cached_property
    def cohorts(self) -> dict[int, Cohort]:
        return {c.pk: c for c in self.records(Cohort)}

    @cached_property
    def tracks(self) -> dict[int, EscalationTrack]:
        return {t.pk: t for t in EscalationTrack.objects.filter(study=self.study)}

    @cached_property
    def regimens(self) -> dict[int, Regimen]:
        return {r.pk: r for r in Regimen.objects.filter(study=self.study)}

    @cached_property
    def dose_levels(self) -> dict[int, DoseLevel]:
        return {d.pk: d for d in DoseLevel.objects.filter(study=self.study)}

    @cached_property
    def ctcae_terms(self) -> dict[int, CtcaeTerm]:
        ids = {ae.ctcae_term_id for ae in self.records(AdverseEvent)}
        return {t.pk: t for t in CtcaeTerm.objects.filter(pk__in=ids)}

    def subjects(self) -> list[Subject]:
        """Subjects in the tabulation: everyone who gave informed consent (screen failures
        included, SDTMIG 3.4 DM assumption 9), in site and subject order."""
        return sorted(
            (s for s in self.subjects_by_id.values() if s.consent_date is not None),
            key=lambda s: (self.sites[s.site_id].number, self.subjid(s)),
        )

    @cached_property
    def doses_by_subject(self) -> dict[int, list[DoseAdministration]]:
        result: dict[int, list[DoseAdministration]] = defaultdict(list)
        for dose in self.records(DoseAdministration):
            result[dose.subject_id].append(dose)
        for doses in result.values():
            doses.sort(key=lambda d: (d.infusion_start, d.cycle, d.day))
        return result

    @cached_property
    def adverse_events_by_subject(self) -> dict[int, list[AdverseEvent]]:
        result: dict[int, list[AdverseEvent]] = defaultdict(list)
        for event in self.records(AdverseEvent):
            result[event.subject_id].append(event)
        return result

    # --- identifiers -----------------------------------------------------------------------

    @property
    def studyid(self) -> str:
        return self.study.protocol_number

    def site(self, subject: Subject) -> Site:
        return self.sites[subject.site_id]

    def subjid(self, subject: Subject) -> str:
        """The subject number once enrolled, else the screening number (screen failures)."""
        return subject.subject_number or subject.screening_number

    def usubjid(self, subject: Subject) -> str:
        """STUDYID-SITEID-SUBJID (SDTMIG 3.4 DM: unique across the submission)."""
        return f"{self.studyid}-{self.site(subject).number}-{self.subjid(subject)}"

    def country(self, subject: Subject) -> str:
        """ISO 3166-1 alpha-3, as SDTM COUNTRY requires; the site keeps alpha-2."""
        code = self.site(subject).country
        found = pycountry.countries.get(alpha_2=code.upper())
        return found.alpha_3 if found else ""

    @property
    def treatment_name(self) -> str:
        """The investigational product's short name: its text before any comment in brackets
        or after a comma ("MIL97 (recombinant ...), IV infusion" -> "MIL97")."""
        name = self.study.investigational_product
        for mark in (" (", ","):
            name = name.split(mark)[0]
        return name.strip()

    # --- timing ----------------------------------------------------------------------------

    def local(self, subject: Subject, value: datetime | None) -> str:
        return dtc(value, tz_name=self.site(subject).timezone) if value else ""

    def first_dose(self, subject: Subject) -> DoseAdministration | None:
        doses = self.doses_by_subject.get(subject.pk)
        return doses[0] if doses else None

    def last_dose(self, subject: Subject) -> DoseAdministration | None:
        doses = self.doses_by_subject.get(subject.pk)
        return doses[-1] if doses else None

    def rfstdtc(self, subject: Subject) -> str:
        """Reference start: the start of the first infusion of study drug (local time)."""
        first = self.first_dose(subject)
        return self.local(subject, first.infusion_start) if first else ""

    def study_day(self, subject: Subject, value: str) -> int | None:
        return study_day(value, self.rfstdtc(subject)) if value else None

    def epoch(self, subject: Subject, value: str) -> str:
        """SCREENING from consent to the first dose, TREATMENT from the first dose to the end
        of treatment (inclusive), FOLLOW-UP after it (docs/standards.md §5)."""
        day = complete_date(value) if value else None
        if day is None:
            return ""
        first = self.first_dose(subject)
        start = complete_date(self.rfstdtc(subject)) if first else None
        if start is None or day < start:
            return EPOCH_SCREENING
        if subject.end_of_treatment_date and day > subject.end_of_treatment_date:
            return EPOCH_FOLLOW_UP
        return EPOCH_TREATMENT

    # --- arms and visits -------------------------------------------------------------------

    def cohort_regimen(self, cohort: Cohort) -> Regimen:
        return self.regimens[self.tracks[cohort.track_id].regimen_id]

    def armcd(self, cohort: Cohort) -> str:
        """Each cohort is an arm: "COH01_Q3W" (<= 20 characters; SDTMIG 3.4 §7.2.1)."""
        return f"COH{cohort.number:02d}_{self.cohort_regimen(cohort).code}"[:20]

    def arm(self, cohort: Cohort) -> str:
        level = self.dose_levels[cohort.dose_level_id]
        return (
            f"Cohort {cohort.number}: {self.treatment_name} {level.label} "
            f"{self.cohort_regimen(cohort).code}"
        )

    def element_code(self, cohort: Cohort) -> str:
        """The treatment element of a cohort: its dose level and regimen, e.g. "L3Q3W"
        (an intermediate dose set by the committee: "I" and its number in the study)."""
        level = self.dose_levels[cohort.dose_level_id]
        prefix = f"L{level.number}" if level.number else f"I{level.pk}"
        return f"{prefix}{self.cohort_regimen(cohort).code}"[:8]

    def element_name(self, cohort: Cohort) -> str:
        level = self.dose_levels[cohort.dose_level_id]
        return f"{self.treatment_name} {level.label} {self.cohort_regimen(cohort).code}"

    @staticmethod
    def visitnum(cycle: int, day: int) -> int:
        """Planned treatment visits: cycle x 100 + day (C1D1 = 101, C1D15 = 115, C2D1 = 201);
        screening is visit 1."""
        return cycle * 100 + day

    @staticmethod
    def visit(cycle: int, day: int) -> str:
        return f"CYCLE {cycle} DAY {day}"

    def frequency(self, regimen: Regimen) -> str:
        return FREQUENCIES.get(regimen.interval_days, "")
