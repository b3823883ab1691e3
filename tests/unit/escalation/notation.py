"""The scenario notation of the escalation rules tests, read in one place.

"L1:N L2:N L3:N,T,N" = at level 1 one subject, at level 2 one, at level 3 three: level number,
then one code per subject in enrollment order. Subjects are numbered `<prefix>-001`,
`<prefix>-002`, ... across the whole spec. Completed subjects are dosed a week apart from
LONG_AGO; pending ones 5 days before TODAY.

    N  dosed long ago, full dose, no AE             -> evaluable, no DLT
    T  DLT inside the window (window completed)     -> evaluable, DLT
    t  DLT inside the window, window still open     -> evaluable, DLT (curtailment)
    P  dosed 5 days ago, no AE                      -> pending
    D  assigned, not dosed yet                      -> awaiting first dose
    X  left the study on Day 6, not replaced        -> not evaluable, needs replacement
    x  same, already replaced                       -> not evaluable, no action
    U  first infusion at 50%                        -> not evaluable (under-dosed)
    M  only the Day 1 infusion given (Q2W: Day 15 missed) -> under-dosed on Q2W
    G  related grade 2 AE in the window, no DLT     -> evaluable, no DLT; titration trigger
    R  related grade 2 AE, window still open        -> pending; titration trigger
    g  unrelated grade 2 AE in the window           -> evaluable, no DLT; no trigger
    Z  ended treatment on the window's last day (Day 21), no DLT
                                                    -> evaluable by default; not evaluable under
                                                       end_of_treatment_on_last_window_day =
                                                       "not_evaluable"
    E  marked replaced, but data corrected: evaluable without DLT (left_on removed)
    F  marked replaced, but data corrected: evaluable with a DLT
"""

from __future__ import annotations

from datetime import date, timedelta

from escalation.rules import AdverseEvent, Dose, DoseLevel, Subject

TODAY = date(2026, 3, 1)
LONG_AGO = date(2025, 1, 6)  # completed subjects are dosed a week apart from here

MIL97_LEVELS = (
    DoseLevel(1, "0.01 mg/kg"),
    DoseLevel(2, "0.03 mg/kg"),
    DoseLevel(3, "0.1 mg/kg"),
    DoseLevel(4, "0.2 mg/kg"),
    DoseLevel(5, "0.3 mg/kg"),
    DoseLevel(6, "0.45 mg/kg"),
)

PENDING_CODES = set("tPRD")
CODES = set("NTtPDXxUMGRgZEF")


def subject(
    code: str, number: str, level: int, index: int, infusion_days: tuple[int, ...] = (1,)
) -> Subject:
    """The subject `code` stands for (the table above), the `index`-th of its spec."""
    if code not in CODES:
        raise ValueError(f"unknown scenario code {code!r}")
    if code == "D":
        return Subject(number, level)
    first = (
        TODAY - timedelta(days=5) if code in PENDING_CODES else LONG_AGO + timedelta(weeks=index)
    )
    days = infusion_days[:1] if code == "M" else infusion_days
    doses = [Dose(first + timedelta(days=d - 1)) for d in days]
    if code == "U":
        doses[0] = Dose(first, fraction=0.5)
    dlt = AdverseEvent(first + timedelta(days=7), 3, True, dlt_investigator=True)
    events = {
        "T": dlt,
        "F": dlt,
        "t": AdverseEvent(first + timedelta(days=2), 3, True, dlt_investigator=True),
        "G": AdverseEvent(first + timedelta(days=3), 2, True, term="Rash"),
        "R": AdverseEvent(first + timedelta(days=2), 2, True, term="Rash"),
        "g": AdverseEvent(first + timedelta(days=3), 2, False, term="Fatigue"),
    }
    left_on = None
    if code in "Xx":
        left_on = first + timedelta(days=5)
    elif code == "Z":
        left_on = first + timedelta(days=20)
    return Subject(
        number,
        level,
        doses=tuple(doses),
        adverse_events=(events[code],) if code in events else (),
        left_on=left_on,
        replaced=code in "xEF",
    )


def subjects(spec: str, prefix: str, infusion_days: tuple[int, ...] = (1,)) -> tuple[Subject, ...]:
    """Every subject of a spec such as "L1:N L2:N L3:N,T,N", numbered `<prefix>-001`, ..."""
    out: list[Subject] = []
    for part in spec.split():
        level_text, codes = part.split(":")
        level = int(level_text.removeprefix("L"))
        for code in codes.split(","):
            index = len(out) + 1
            out.append(subject(code, f"{prefix}-{index:03d}", level, index, infusion_days))
    return tuple(out)
