"""SDTM AE (adverse events) with SUPPAE for the DLT calls and what AE has no variable for.
Registered with the standards registry at start-up (docs/standards.md §9).

The EDC codes each event to a CTCAE v5.0 term, which is a MedDRA Lowest Level Term with its
code and System Organ Class (CTCAE v5.0 is built on MedDRA 20.1); the mapping choices are in
docs/standards.md §5.
"""

from datetime import datetime

from standards.mapping import (
    Domain,
    Qualifier,
    SponsorCodelist,
    Variable,
    epoch_variable,
    identifiers,
)
from standards.registry import register
from standards.timing import dtc

from .models import DEFAULT_MEDDRA_VERSION
from .selectors import emergence_of
from .services import meddra_version_of

V = Variable

CTCAE_VERSION = "5.0"
MEDDRA_VERSION = DEFAULT_MEDDRA_VERSION  # CTCAE v5.0 is built on MedDRA 20.1 (NCI, 2017)

# AEREL has no CDISC codelist: the sponsor's (the EDC's five-point scale).
RELATIONSHIP = {
    "not_related": "NOT RELATED",
    "unlikely": "UNLIKELY RELATED",
    "possible": "POSSIBLY RELATED",
    "probable": "PROBABLY RELATED",
    "definite": "RELATED",
}
# CDISC CT ACN (C66767, not extensible). It has no "dose delayed": a delay is a pause of the
# drug, DRUG INTERRUPTED, with the collected action kept in AEACNOTH.
ACTION = {
    "none": ("DOSE NOT CHANGED", ""),
    "interrupted": ("DRUG INTERRUPTED", ""),
    "reduced": ("DOSE REDUCED", ""),
    "delayed": ("DRUG INTERRUPTED", "DOSE DELAYED"),
    "withdrawn": ("DRUG WITHDRAWN", ""),
}
# CDISC CT OUT (C66768).
OUTCOME = {
    "recovered": "RECOVERED/RESOLVED",
    "recovering": "RECOVERING/RESOLVING",
    "not_recovered": "NOT RECOVERED/NOT RESOLVED",
    "sequelae": "RECOVERED/RESOLVED WITH SEQUELAE",
    "fatal": "FATAL",
    "unknown": "UNKNOWN",
}


def _yn(value: bool | None) -> str:
    return "" if value is None else ("Y" if value else "N")


def ae_rows(ctx):
    for subject in ctx.subjects():
        first = ctx.first_dose(subject)
        for event in ctx.adverse_events_by_subject.get(subject.pk, []):
            term = ctx.ctcae_terms[event.ctcae_term_id]
            # The onset to the minute when its time is known (a local clinic time, docs/safety.md §3).
            start = dtc(
                datetime.combine(event.onset_date, event.onset_time)
                if event.onset_time is not None
                else event.onset_date
            )
            end = dtc(event.resolution_date)
            action, other_action = ACTION[event.action_taken]
            emergent = emergence_of(
                event,
                first.infusion_start if first is not None else None,
                ctx.site(subject).timezone,
            ).emergent
            yield {
                "STUDYID": ctx.studyid,
                "DOMAIN": "AE",
                "USUBJID": ctx.usubjid(subject),
                "AESPID": str(event.pk),
                "AETERM": event.verbatim_term,
                "AELLT": term.term,
                "AELLTCD": term.meddra_code,
                "AEDECOD": term.term,
                "AEPTCD": None,
                "AEHLT": None,
                "AEHLTCD": None,
                "AEHLGT": None,
                "AEHLGTCD": None,
                "AEBODSYS": term.soc,
                "AEBDSYCD": None,
                "AESOC": term.soc,
                "AESOCCD": None,
                "AESER": _yn(event.serious),
                "AEACN": action,
                "AEACNOTH": other_action,
                "AEREL": RELATIONSHIP[event.relationship],
                "AEOUT": OUTCOME[event.outcome],
                "AESCONG": _yn(event.serious_congenital_anomaly) if event.serious else "",
                "AESDISAB": _yn(event.serious_disability) if event.serious else "",
                "AESDTH": _yn(event.serious_death) if event.serious else "",
                "AESHOSP": _yn(event.serious_hospitalisation) if event.serious else "",
                "AESLIFE": _yn(event.serious_life_threatening) if event.serious else "",
                "AESMIE": _yn(event.serious_important_medical_event) if event.serious else "",
                "AETOXGR": str(event.grade),
                "EPOCH": ctx.epoch(subject, start),
                "AESTDTC": start,
                "AEENDTC": end,
                "AESTDY": ctx.study_day(subject, start),
                "AEENDY": ctx.study_day(subject, end),
                "SUPP": {
                    "AETRTEM": "Y" if emergent else "N",
                    "AEDLTINV": _yn(event.dlt_investigator),
                    "AEDLTADJ": _yn(event.dlt_adjudicated),
                    "AEDLTADT": dtc(event.dlt_adjudicated_at, tz_name="UTC")
                    if event.dlt_adjudicated_at
                    else "",
                    "AEDLTNOT": event.dlt_adjudication_note,
                },
            }


AE = register(
    Domain(
        code="AE",
        rows=ae_rows,
        label="Adverse Events",
        observation_class="EVENTS",
        structure="One record per adverse event per subject",
        keys=("STUDYID", "USUBJID", "AEDECOD", "AESTDTC", "AESPID"),
        sort=("USUBJID", "AESTDTC", "AEDECOD", "AESPID"),
        variables=(
            *identifiers("AE"),
            V(
                "AESPID",
                "Sponsor-Defined Identifier",
                "Char",
                "Perm",
                "Assigned",
                "The EDC's record number of the adverse event (stable across exports)",
            ),
            V(
                "AETERM",
                "Reported Term for the Adverse Event",
                "Char",
                "Req",
                "Collected",
                "AdverseEvent.verbatim_term",
            ),
            V(
                "AELLT",
                "Lowest Level Term",
                "Char",
                "Exp",
                "Assigned",
                "The CTCAE v5.0 term chosen (a MedDRA lowest level term)",
                "MedDRA",
            ),
            V(
                "AELLTCD",
                "Lowest Level Term Code",
                "Num",
                "Exp",
                "Assigned",
                "CtcaeTerm.meddra_code",
                "MedDRA",
                data_type="integer",
            ),
            V(
                "AEDECOD",
                "Dictionary-Derived Term",
                "Char",
                "Req",
                "Assigned",
                "The CTCAE v5.0 term (the EDC codes to CTCAE terms, not to MedDRA preferred terms)",
                "MedDRA",
            ),
            V(
                "AEPTCD",
                "Preferred Term Code",
                "Num",
                "Exp",
                "Assigned",
                "Not coded by the EDC: null",
                "MedDRA",
                data_type="integer",
            ),
            *(
                V(
                    name,
                    label,
                    kind,
                    "Exp",
                    "Assigned",
                    "Not coded by the EDC: null",
                    "MedDRA",
                    data_type="integer" if kind == "Num" else None,
                )
                for name, label, kind in (
                    ("AEHLT", "High Level Term", "Char"),
                    ("AEHLTCD", "High Level Term Code", "Num"),
                    ("AEHLGT", "High Level Group Term", "Char"),
                    ("AEHLGTCD", "High Level Group Term Code", "Num"),
                )
            ),
            V(
                "AEBODSYS",
                "Body System or Organ Class",
                "Char",
                "Exp",
                "Assigned",
                "CtcaeTerm.soc (MedDRA primary SOC)",
                "MedDRA",
            ),
            V(
                "AEBDSYCD",
                "Body System or Organ Class Code",
                "Num",
                "Exp",
                "Assigned",
                "Not in the CTCAE workbook: null",
                "MedDRA",
                data_type="integer",
            ),
            V(
                "AESOC",
                "Primary System Organ Class",
                "Char",
                "Exp",
                "Assigned",
                "CtcaeTerm.soc",
                "MedDRA",
            ),
            V(
                "AESOCCD",
                "Primary System Organ Class Code",
                "Num",
                "Exp",
                "Assigned",
                "Not in the CTCAE workbook: null",
                "MedDRA",
                data_type="integer",
            ),
            V("AESER", "Serious Event", "Char", "Exp", "Collected", "AdverseEvent.serious", "NY"),
            V(
                "AEACN",
                "Action Taken with Study Treatment",
                "Char",
                "Exp",
                "Collected",
                "AdverseEvent.action_taken (dose delayed as DRUG INTERRUPTED)",
                "ACN",
            ),
            V(
                "AEACNOTH",
                "Other Action Taken",
                "Char",
                "Perm",
                "Collected",
                'AdverseEvent.action_taken "delayed": DOSE DELAYED',
            ),
            V(
                "AEREL",
                "Causality",
                "Char",
                "Exp",
                "Collected",
                "AdverseEvent.relationship",
                "AEREL",
            ),
            V(
                "AEOUT",
                "Outcome of Adverse Event",
                "Char",
                "Perm",
                "Collected",
                "AdverseEvent.outcome",
                "OUT",
            ),
            V(
                "AESCONG",
                "Congenital Anomaly or Birth Defect",
                "Char",
                "Perm",
                "Collected",
                "AdverseEvent.serious_congenital_anomaly (serious events)",
                "NY",
            ),
            V(
                "AESDISAB",
                "Persist or Signif Disability/Incapacity",
                "Char",
                "Perm",
                "Collected",
                "AdverseEvent.serious_disability (serious events)",
                "NY",
            ),
            V(
                "AESDTH",
                "Results in Death",
                "Char",
                "Perm",
                "Collected",
                "AdverseEvent.serious_death (serious events)",
                "NY",
            ),
            V(
                "AESHOSP",
                "Requires or Prolongs Hospitalization",
                "Char",
                "Perm",
                "Collected",
                "AdverseEvent.serious_hospitalisation (serious events)",
                "NY",
            ),
            V(
                "AESLIFE",
                "Is Life Threatening",
                "Char",
                "Perm",
                "Collected",
                "AdverseEvent.serious_life_threatening (serious events)",
                "NY",
            ),
            V(
                "AESMIE",
                "Other Medically Important Serious Event",
                "Char",
                "Perm",
                "Collected",
                "AdverseEvent.serious_important_medical_event (serious events)",
                "NY",
            ),
            V(
                "AETOXGR",
                "Standard Toxicity Grade",
                "Char",
                "Perm",
                "Collected",
                "AdverseEvent.grade (CTCAE v5.0)",
                "CTCAE",
            ),
            epoch_variable(),
            V(
                "AESTDTC",
                "Start Date/Time of Adverse Event",
                "Char",
                "Exp",
                "Collected",
                "AdverseEvent.onset_date, with AdverseEvent.onset_time (site local) when known",
            ),
            V(
                "AEENDTC",
                "End Date/Time of Adverse Event",
                "Char",
                "Exp",
                "Collected",
                "AdverseEvent.resolution_date",
            ),
            V(
                "AESTDY",
                "Study Day of Start of Adverse Event",
                "Num",
                "Perm",
                "Derived",
                "AESTDTC - RFSTDTC (+1 on or after RFSTDTC)",
            ),
            V(
                "AEENDY",
                "Study Day of End of Adverse Event",
                "Num",
                "Perm",
                "Derived",
                "AEENDTC - RFSTDTC (+1 on or after RFSTDTC)",
            ),
        ),
        qualifiers=(
            Qualifier(
                "AETRTEM",
                "Treatment Emergent Flag",
                "Derived",
                "Y when the onset is on or after the start of the first infusion (site local "
                "time; an unknown time on that day counts as after), and for a pre-existing "
                "condition only when the grade is above the baseline grade (safety/rules.py)",
                codelist="NY",
            ),
            Qualifier(
                "AEDLTINV",
                "DLT (Investigator)",
                "Collected",
                "AdverseEvent.dlt_investigator",
                codelist="NY",
                qeval="INVESTIGATOR",
            ),
            Qualifier(
                "AEDLTADJ",
                "DLT (Adjudicated)",
                "Assigned",
                "AdverseEvent.dlt_adjudicated (the Safety Review Committee's call)",
                codelist="NY",
                qeval="ADJUDICATION COMMITTEE",
            ),
            Qualifier(
                "AEDLTADT",
                "DLT Adjudication Date/Time (UTC)",
                "Assigned",
                "AdverseEvent.dlt_adjudicated_at",
            ),
            Qualifier(
                "AEDLTNOT",
                "DLT Adjudication Note",
                "Assigned",
                "AdverseEvent.dlt_adjudication_note",
                qeval="ADJUDICATION COMMITTEE",
            ),
        ),
        sponsor_codelists=(
            SponsorCodelist(
                "AEREL",
                "Causality",
                tuple((v, v.capitalize()) for v in RELATIONSHIP.values()),
            ),
            # The study's MedDRA version (its [safety] setting, docs/safety.md §9).
            SponsorCodelist(
                "MedDRA",
                "MedDRA",
                external=("MedDRA", MEDDRA_VERSION),
                version_of=meddra_version_of,
            ),
            SponsorCodelist("CTCAE", "CTCAE grade", external=("CTCAE", CTCAE_VERSION)),
        ),
    )
)
