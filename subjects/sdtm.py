"""SDTM domains from the subject record: DM (demographics) with SUPPDM (several races, a race
written out), DS (disposition) and IE (criteria not met). Registered with the standards registry
at start-up (docs/standards.md §9).

Variable labels, types and order follow the SDTMIG 3.4 tables (standards/spec/); the
mapping choices are explained in docs/standards.md §5.1-§5.3.
"""

from standards.ct import codelist
from standards.mapping import SUPP, Domain, Qualifier, Variable, epoch_variable, identifiers
from standards.registry import register
from standards.timing import PartialDate, dtc

from . import rules

V = Variable
SCREEN_FAILURE = "SCREEN FAILURE"
MAX_RACES = len(rules.RACES) + 1  # the five races and OTHER: NOT REPORTED and UNKNOWN stand alone


def _arm_fields(ctx, subject) -> dict:
    """Planned arm = the cohort enrolled into; actual arm = the same cohort once dosed (a
    subject is dosed only at their cohort's level: the dosing service refuses another level
    without a recorded reason, which EX keeps in EXADJ). SDTMIG 3.4 DM assumption 4: the arm
    codes are null with ARMNRS when there is no arm."""
    cohort = ctx.cohorts.get(subject.cohort_id) if subject.cohort_id else None
    if cohort is None:
        reason = (
            SCREEN_FAILURE if subject.status == subject.Status.SCREEN_FAILED else "NOT ASSIGNED"
        )
        return {"ARMNRS": reason}
    fields = {"ARMCD": ctx.armcd(cohort), "ARM": ctx.arm(cohort)}
    if ctx.first_dose(subject) is None:
        fields["ARMNRS"] = "ASSIGNED, NOT TREATED"
    else:
        fields |= {"ACTARMCD": ctx.armcd(cohort), "ACTARM": ctx.arm(cohort)}
    return fields


def last_known_date(ctx, subject):
    """The last date the subject is known to take part: the latest collected date."""
    dates = [subject.consent_date, subject.screening_date, subject.eligibility_assessed_on]
    dates += [subject.enrollment_date, subject.end_of_treatment_date, subject.end_of_study_date]
    dates += [subject.death_date]
    dates += [d.administered_on for d in ctx.doses_by_subject.get(subject.pk, [])]
    for event in ctx.adverse_events_by_subject.get(subject.pk, []):
        dates += [event.onset_date, event.resolution_date]
    return max(d for d in dates if d is not None)


def _race_fields(subject) -> dict:
    """RACE (MULTIPLE for several, SDTMIG 3.4 DM), ETHNIC, and in SUPPDM each race of several
    (RACE1, RACE2, ...) and the race written out with OTHER (RACEOTH)."""
    races = list(subject.races or [])
    supplements = {}
    if len(races) > 1:
        supplements = {f"RACE{i}": race for i, race in enumerate(races, start=1)}
    if subject.race_other:
        supplements["RACEOTH"] = subject.race_other
    return {
        "RACE": rules.sdtm_race(races),
        "ETHNIC": subject.ethnicity,
        SUPP: supplements,
    }


def dm_rows(ctx):
    for subject in ctx.subjects():
        first, last = ctx.first_dose(subject), ctx.last_dose(subject)
        ended = subject.end_of_study_date or subject.death_date
        consent = subject.consent_date
        yield {
            "STUDYID": ctx.studyid,
            "DOMAIN": "DM",
            "USUBJID": ctx.usubjid(subject),
            "SUBJID": ctx.subjid(subject),
            "RFSTDTC": ctx.rfstdtc(subject),
            "RFENDTC": dtc(ended) if ended and first else "",
            "RFXSTDTC": ctx.local(subject, first.infusion_start) if first else "",
            "RFXENDTC": ctx.local(subject, last.infusion_end) if last else "",
            "RFICDTC": dtc(consent),
            "RFPENDTC": dtc(ended or last_known_date(ctx, subject)),
            "DTHDTC": dtc(subject.death_date),
            "DTHFL": "Y" if subject.death_date else "",
            "SITEID": ctx.site(subject).number,
            "BRTHDTC": dtc(PartialDate(subject.year_of_birth)),
            "AGE": consent.year - subject.year_of_birth,
            "AGEU": "YEARS",
            "SEX": subject.sex,
            **_race_fields(subject),
            **_arm_fields(ctx, subject),
            "COUNTRY": ctx.country(subject),
        }


DM = register(
    Domain(
        code="DM",
        rows=dm_rows,
        label="Demographics",
        observation_class="SPECIAL PURPOSE",
        structure="One record per subject",
        keys=("STUDYID", "USUBJID"),
        build_order=10,
        variables=(
            *identifiers("DM", seq=False),
            V(
                "SUBJID",
                "Subject Identifier for the Study",
                "Char",
                "Req",
                "Collected",
                "Subject.subject_number (assigned at enrollment), else the screening number",
            ),
            V(
                "RFSTDTC",
                "Subject Reference Start Date/Time",
                "Char",
                "Exp",
                "Derived",
                "Start of the first infusion (DoseAdministration.infusion_start, site time)",
            ),
            V(
                "RFENDTC",
                "Subject Reference End Date/Time",
                "Char",
                "Exp",
                "Derived",
                "End of study date, or the death date, for dosed subjects",
            ),
            V(
                "RFXSTDTC",
                "Date/Time of First Study Treatment",
                "Char",
                "Exp",
                "Derived",
                "Start of the first infusion",
            ),
            V(
                "RFXENDTC",
                "Date/Time of Last Study Treatment",
                "Char",
                "Exp",
                "Derived",
                "End of the last infusion (DoseAdministration.infusion_end, site time)",
            ),
            V(
                "RFICDTC",
                "Date/Time of Informed Consent",
                "Char",
                "Exp",
                "Collected",
                "Subject.consent_date",
            ),
            V(
                "RFPENDTC",
                "Date/Time of End of Participation",
                "Char",
                "Exp",
                "Derived",
                "End of study or death date; while ongoing, the latest date collected",
            ),
            V("DTHDTC", "Date/Time of Death", "Char", "Exp", "Collected", "Subject.death_date"),
            V(
                "DTHFL",
                "Subject Death Flag",
                "Char",
                "Exp",
                "Derived",
                "Y when a death date is recorded",
                "NY",
            ),
            V("SITEID", "Study Site Identifier", "Char", "Req", "Collected", "Site.number"),
            V(
                "BRTHDTC",
                "Date/Time of Birth",
                "Char",
                "Perm",
                "Collected",
                "Subject.year_of_birth (the year only is collected)",
            ),
            V(
                "AGE",
                "Age",
                "Num",
                "Exp",
                "Derived",
                "Year of informed consent minus year of birth (the age reached in the consent "
                "year: one more than the completed years when the birthday falls after consent)",
            ),
            V("AGEU", "Age Units", "Char", "Exp", "Assigned", '"YEARS"', "AGEU"),
            V("SEX", "Sex", "Char", "Req", "Collected", "Subject.sex", "SEX"),
            V(
                "RACE",
                "Race",
                "Char",
                "Exp",
                "Collected",
                "Subject.races: the one race chosen; MULTIPLE when several are (each in SUPPDM "
                "RACE1, RACE2, ...); null until the demographics are recorded",
                "RACE",
            ),
            V(
                "ETHNIC",
                "Ethnicity",
                "Char",
                "Perm",
                "Collected",
                "Subject.ethnicity; null until the demographics are recorded",
                "ETHNIC",
            ),
            V(
                "ARMCD",
                "Planned Arm Code",
                "Char",
                "Exp",
                "Assigned",
                "The cohort enrolled into: COH<number>_<regimen>",
            ),
            V("ARM", "Description of Planned Arm", "Char", "Exp", "Assigned", "Cohort label"),
            V(
                "ACTARMCD",
                "Actual Arm Code",
                "Char",
                "Exp",
                "Derived",
                "The cohort, once the subject received a dose",
            ),
            V("ACTARM", "Description of Actual Arm", "Char", "Exp", "Derived", "Cohort label"),
            V(
                "ARMNRS",
                "Reason Arm and/or Actual Arm is Null",
                "Char",
                "Exp",
                "Derived",
                "SCREEN FAILURE, NOT ASSIGNED (still in screening) or ASSIGNED, NOT TREATED",
                "ARMNULRS",
            ),
            V(
                "ACTARMUD",
                "Description of Unplanned Actual Arm",
                "Char",
                "Exp",
                "Derived",
                "Null: the dosing service gives only the cohort's planned dose level",
            ),
            V(
                "COUNTRY",
                "Country",
                "Char",
                "Req",
                "Derived",
                "Site.country as ISO 3166-1 alpha-3",
                "ISO 3166",
            ),
        ),
        qualifiers=(
            *(
                Qualifier(
                    f"RACE{i}",
                    f"Race {i}",
                    "Collected",
                    f"Subject.races: the {i}th race chosen, when several are (RACE is MULTIPLE)",
                    "RACE",
                )
                for i in range(1, MAX_RACES + 1)
            ),
            Qualifier(
                "RACEOTH",
                "Race, Other",
                "Collected",
                "Subject.race_other: the race as the subject gave it, with OTHER",
            ),
        ),
    )
)


def _ncomplt(reason: str, *, died: bool) -> str:
    """The coded reason of a disposition recorded before reasons were coded (a data cut before
    they were, read from the audit history): DEATH when the subject died that day, the NCOMPLT
    term the verbatim reason spells out (case aside), else OTHER."""
    if died:
        return rules.REASON_DEATH
    terms = codelist("NCOMPLT").terms
    wanted = reason.strip().upper().rstrip(".")
    return wanted if wanted in terms else rules.REASON_OTHER


def _disposition(subject, prefix: str) -> tuple[str, str]:
    """(DSTERM, DSDECOD) of an end: the coded reason (CDISC NCOMPLT) and the reason in the
    site's words, or the coded reason itself when the site wrote none."""
    day = getattr(subject, f"{prefix}_date")
    code = getattr(subject, f"{prefix}_reason_code", "")
    text = getattr(subject, f"{prefix}_reason").strip()
    if not code:
        code = _ncomplt(text, died=subject.death_date == day)
    return text or code, code


def _ds_event(ctx, subject, term, decode, category, subcategory, day):
    when = dtc(day)
    return {
        "STUDYID": ctx.studyid,
        "DOMAIN": "DS",
        "USUBJID": ctx.usubjid(subject),
        "DSTERM": term,
        "DSDECOD": decode,
        "DSCAT": category,
        "DSSCAT": subcategory,
        "EPOCH": ctx.epoch(subject, when),
        "DSSTDTC": when,
        "DSSTDY": ctx.study_day(subject, when),
    }


def ds_rows(ctx):
    for subject in ctx.subjects():

        def event(*args, subject=subject):
            return _ds_event(ctx, subject, *args)

        yield event(
            "INFORMED CONSENT OBTAINED",
            "INFORMED CONSENT OBTAINED",
            "PROTOCOL MILESTONE",
            "",
            subject.consent_date,
        )
        if subject.status == subject.Status.SCREEN_FAILED:
            yield event(
                subject.screen_failure_reason,
                SCREEN_FAILURE,
                "DISPOSITION EVENT",
                "STUDY PARTICIPATION",
                subject.eligibility_assessed_on or subject.consent_date,
            )
        death_told = False
        for prefix, subcategory in (
            ("end_of_treatment", "STUDY TREATMENT"),
            ("end_of_study", "STUDY PARTICIPATION"),
        ):
            day = getattr(subject, f"{prefix}_date")
            if day is None:
                continue
            term, decode = _disposition(subject, prefix)
            death_told |= decode == rules.REASON_DEATH and day == subject.death_date
            yield event(term, decode, "DISPOSITION EVENT", subcategory, day)
        if subject.death_date and not death_told:
            # A death no end of participation gives as its reason (during screening, or after
            # the end of study): the death itself, so every death in DM is in DS.
            yield event("DEATH", rules.REASON_DEATH, "OTHER EVENT", "", subject.death_date)


DS = register(
    Domain(
        code="DS",
        rows=ds_rows,
        label="Disposition",
        observation_class="EVENTS",
        structure="One record per disposition status or protocol milestone per subject",
        keys=("STUDYID", "USUBJID", "DSSCAT", "DSDECOD", "DSSTDTC"),
        # Same-day events keep the order they happen in (consent before a screen failure).
        sort=("USUBJID", "DSSTDTC"),
        variables=(
            *identifiers("DS"),
            V(
                "DSTERM",
                "Reported Term for the Disposition Event",
                "Char",
                "Req",
                "Collected",
                "The reason as the site wrote it (screen failure; end of treatment and end of "
                "study: Subject.end_of_*_reason, else the coded reason); "
                '"INFORMED CONSENT OBTAINED" for the consent milestone; "DEATH" for a death '
                "no end of participation gives as its reason",
            ),
            V(
                "DSDECOD",
                "Standardized Disposition Term",
                "Char",
                "Req",
                "Collected",
                "PROTMLST for milestones; for disposition events the coded reason collected "
                "(Subject.end_of_*_reason_code, CDISC NCOMPLT, OTHER a sponsor extension) or "
                "SCREEN FAILURE; DEATH for a death recorded apart from them",
                "NCOMPLT|PROTMLST",
            ),
            V(
                "DSCAT",
                "Category for Disposition Event",
                "Char",
                "Exp",
                "Assigned",
                "PROTOCOL MILESTONE (consent), DISPOSITION EVENT (screen failure, end of "
                "treatment, end of study) or OTHER EVENT (a death after the end of study or "
                "during screening)",
                "DSCAT",
            ),
            V(
                "DSSCAT",
                "Subcategory for Disposition Event",
                "Char",
                "Perm",
                "Assigned",
                "STUDY TREATMENT (end of treatment) or STUDY PARTICIPATION",
                "DSSCAT",
            ),
            epoch_variable(),
            V(
                "DSSTDTC",
                "Start Date/Time of Disposition Event",
                "Char",
                "Exp",
                "Collected",
                "Consent, eligibility assessment, end of treatment, end of study or death date",
            ),
            V(
                "DSSTDY",
                "Study Day of Start of Disposition Event",
                "Num",
                "Exp",
                "Derived",
                "DSSTDTC - RFSTDTC (+1 on or after RFSTDTC)",
            ),
        ),
    )
)


def criteria(study) -> list[tuple[str, str, str]]:
    """(IETESTCD, IETEST, IECAT) of the protocol's criteria: INCL01..., EXCL01..."""
    rows = [
        (f"INCL{i:02d}", text, "INCLUSION") for i, text in enumerate(study.inclusion_criteria(), 1)
    ]
    rows += [
        (f"EXCL{i:02d}", text, "EXCLUSION") for i, text in enumerate(study.exclusion_criteria(), 1)
    ]
    return rows


def ie_rows(ctx):
    """SDTMIG 3.4 IE: only the criteria a subject did not meet (an inclusion answered no, an
    exclusion answered yes)."""
    for subject in ctx.subjects():
        answers = subject.eligibility_answers or {}
        when = dtc(subject.eligibility_assessed_on)
        for testcd, text, category in criteria(ctx.study):
            answer = answers.get(text)
            failed = (category == "INCLUSION" and answer is False) or (
                category == "EXCLUSION" and answer is True
            )
            if not failed:
                continue
            result = "N" if category == "INCLUSION" else "Y"
            yield {
                "STUDYID": ctx.studyid,
                "DOMAIN": "IE",
                "USUBJID": ctx.usubjid(subject),
                "IETESTCD": testcd,
                "IETEST": text,
                "IECAT": category,
                "IEORRES": result,
                "IESTRESC": result,
                "VISITNUM": 1,
                "VISIT": "SCREENING",
                "EPOCH": ctx.epoch(subject, when),
                "IEDTC": when,
                "IEDY": ctx.study_day(subject, when),
            }


IE = register(
    Domain(
        code="IE",
        rows=ie_rows,
        label="Inclusion/Exclusion Criteria Not Met",
        observation_class="FINDINGS",
        structure="One record per inclusion/exclusion criterion not met per subject",
        keys=("STUDYID", "USUBJID", "IETESTCD"),
        sort=("USUBJID", "IETESTCD"),
        variables=(
            *identifiers("IE"),
            V(
                "IETESTCD",
                "Inclusion/Exclusion Criterion Short Name",
                "Char",
                "Req",
                "Assigned",
                "INCLnn / EXCLnn in the protocol file's order (as in TI)",
            ),
            V(
                "IETEST",
                "Inclusion/Exclusion Criterion",
                "Char",
                "Req",
                "Protocol",
                "The criterion's text",
            ),
            V(
                "IECAT",
                "Inclusion/Exclusion Category",
                "Char",
                "Req",
                "Protocol",
                "INCLUSION or EXCLUSION",
                "IECAT",
            ),
            V(
                "IEORRES",
                "I/E Criterion Original Result",
                "Char",
                "Req",
                "Collected",
                "Subject.eligibility_answers: N for an inclusion not met, Y for an exclusion met",
                "NY",
            ),
            V(
                "IESTRESC",
                "I/E Criterion Result in Std Format",
                "Char",
                "Req",
                "Derived",
                "IEORRES",
                "NY",
            ),
            V("VISITNUM", "Visit Number", "Num", "Perm", "Assigned", "1 (screening)"),
            V("VISIT", "Visit Name", "Char", "Perm", "Assigned", '"SCREENING"'),
            epoch_variable(),
            V(
                "IEDTC",
                "Date/Time of Collection",
                "Char",
                "Perm",
                "Collected",
                "Subject.eligibility_assessed_on",
            ),
            V(
                "IEDY",
                "Study Day of Collection",
                "Num",
                "Perm",
                "Derived",
                "IEDTC - RFSTDTC (+1 on or after RFSTDTC)",
            ),
        ),
    )
)
