"""Reads of simulations, scoped to the user (accounts/scoping.py), and the side-by-side
comparison and CSV built from a run's stored figures (docs/designs.md §13)."""

from accounts.scoping import beyond_site_study_ids, restrict

from .models import Simulation


def simulation_study_ids(user) -> set[int]:
    """Studies where the user holds a study-wide role (simulations are theirs)."""
    return beyond_site_study_ids(user)


def simulations_for(user):
    queryset = restrict(Simulation.objects.select_related("study", "requested_by"), user)
    return queryset.filter(study_id__in=simulation_study_ids(user))


def _cell(value) -> dict | None:
    if value is None:
        return None
    return {"value": value[0], "se": value[1]}


def comparison(simulation: Simulation) -> list[dict]:
    """Per scenario: the metric rows, each with one cell per design (value and SE), and for a
    3+3 the exact closed-form value beside its simulation."""
    results = simulation.results or {}
    cells = {(c["design"], c["scenario"]): c for c in results.get("cells", [])}
    designs = simulation.designs
    levels = simulation.dose_levels
    out = []
    for j, scenario in enumerate(simulation.scenarios):
        columns = []
        for i, design in enumerate(designs):
            cell = cells.get((i, j))
            columns.append(
                {
                    "label": _label(design),
                    "oc": cell["oc"] if cell else None,
                    "exact": cell.get("exact") if cell else None,
                }
            )
        rows = []

        def add(label, key, *, index=None, exact_key=None, kind="%", columns=columns, rows=rows):
            rows.append(_row(columns, label, key, index=index, exact_key=exact_key, kind=kind))

        for k, level in enumerate(levels):
            add(f"Selected: level {k + 1} ({level})", "selection", index=k, exact_key="selection")
        add("No MTD selected", "no_mtd", exact_key="no_mtd")
        add("Stopped early for toxicity", "early_stop")
        add("Correct selection (true MTD)", "pcs")
        add("Selected above the true MTD", "above_mtd")
        for k in range(len(levels)):
            add(f"Subjects: level {k + 1}", "patients", index=k, exact_key="patients", kind="n")
        add("Subjects in all", "total_patients", exact_key="total_patients", kind="n")
        for k in range(len(levels)):
            add(f"DLTs: level {k + 1}", "dlts", index=k, exact_key="dlts", kind="n")
        add("DLTs in all", "total_dlts", exact_key="total_dlts", kind="n")
        add("Subjects treated above the true MTD, mean share", "patients_above_mtd")
        add("Trials treating > 60% of the maximum above the MTD", "overdose60")
        add("Trials treating > 80% of the maximum above the MTD", "overdose80")
        if any(c["oc"] and c["oc"].get("duration") for c in columns):
            add("Duration (days)", "duration", kind="n")
        true_mtd = next((c["oc"]["true_mtd"] for c in columns if c["oc"]), None)
        out.append(
            {
                "name": scenario["name"],
                "true_dlt": scenario["true_dlt"],
                "true_mtd": true_mtd,
                "columns": columns,
                "rows": rows,
            }
        )
    return out


def _row(columns, label, key, *, index, exact_key, kind) -> dict:
    values = []
    for column in columns:
        oc = column["oc"]
        if oc is None:
            values.append({"sim": None, "exact": None})
            continue
        figure = oc[key][index] if index is not None else oc[key]
        exact = None
        if column["exact"] is not None and exact_key is not None:
            source = column["exact"][exact_key]
            exact = source[index] if index is not None else source
        values.append({"sim": _cell(figure), "exact": exact})
    return {"label": label, "kind": kind, "values": values, "key": key}


def _label(design: dict) -> str:
    from escalation.rules.designs.config import LABELS

    name = design.get("name", "3+3")
    settings = ", ".join(f"{k} {v}" for k, v in design.items() if k != "name")
    return f"{LABELS.get(name, name)}" + (f" ({settings})" if settings else "")


CSV_HEADER = [
    "simulation",
    "seed",
    "n_trials",
    "designs_version",
    "scenario",
    "true_dlt",
    "design",
    "metric",
    "value",
    "mc_se",
    "exact",
]


def csv_rows(simulation: Simulation):
    """One row per scenario, design and figure: the value, its Monte-Carlo SE and, for the
    3+3, the exact value."""
    yield CSV_HEADER
    for scenario in comparison(simulation):
        true_dlt = " ".join(str(p) for p in scenario["true_dlt"])
        for row in scenario["rows"]:
            for column, value in zip(scenario["columns"], row["values"], strict=True):
                sim = value["sim"]
                yield [
                    simulation.pk,
                    simulation.seed,
                    simulation.n_trials,
                    simulation.designs_version,
                    scenario["name"],
                    true_dlt,
                    column["label"],
                    row["label"],
                    "" if sim is None else sim["value"],
                    "" if sim is None else sim["se"],
                    "" if value["exact"] is None else value["exact"],
                ]
