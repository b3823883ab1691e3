"""Simulations of operating characteristics as jobs: stored with seed and version, the same seed
giving the same figures, a page with progress and a side-by-side comparison, CSV, the API
(docs/designs.md §13)."""

import csv
import io
import math

import pytest
from django.urls import reverse

from core.errors import PermissionDenied, ValidationError
from escalation.rules.designs.config import parse_design
from escalation.rules.designs.simulate import Scenario, simulate_in_chunks, summarise
from escalation.rules.designs.three_plus_three import ThreePlusThreeSettings, Variant, exact_oc
from simulations.models import Simulation
from simulations.services import run_simulation, simulation_request
from tests.integration.api.conftest import client_with_token

MIL97_SCENARIO = [0.02, 0.05, 0.1, 0.3, 0.45, 0.6]
BOIN = {"name": "boin", "target": 0.3, "cohort_size": 3, "max_subjects": 30}
THREE = {"name": "3+3", "variant": "expand"}


def start(by, study, **kwargs):
    values = {
        "designs": [BOIN, THREE],
        "scenarios": [{"name": "MTD at level 4", "true_dlt": MIL97_SCENARIO}],
        "n_trials": 2000,
        "seed": 7,
    }
    values.update(kwargs)
    return simulation_request(by=by, study=study, **values)


def test_a_simulation_runs_after_commit_and_stores_its_figures(
    monitor, study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        simulation = start(monitor, study)
    simulation.refresh_from_db()
    assert simulation.status == Simulation.Status.COMPLETED and simulation.progress == 100
    assert simulation.designs_version.startswith("escalation-designs")
    assert simulation.dose_levels[0] == "0.01 mg/kg" and len(simulation.dose_levels) == 6
    assert simulation.results["timing"] == {
        "accrual_per_window": 2.0,
        "accrual": "poisson",
        "dlt_onset": [0.0, 1.0],
        "window_days": 21,
    }
    cells = simulation.results["cells"]
    assert [(c["design"], c["scenario"]) for c in cells] == [(0, 0), (1, 0)]
    boin = cells[0]["oc"]
    assert boin["true_mtd"] == 4 and boin["n_trials"] == 2000
    assert sum(v for v, _ in boin["selection"]) + boin["no_mtd"][0] == pytest.approx(100)
    # The figures are those of the designs core itself, batch by batch from the stored seed.
    config = parse_design(BOIN, n_levels=6)
    *_, (_, records) = simulate_in_chunks(
        config.settings, Scenario(tuple(MIL97_SCENARIO)), n_trials=2000, seed=7, chunk=1000
    )
    direct = summarise(config.settings, Scenario(tuple(MIL97_SCENARIO), mtd=3), records, seed=7)
    assert boin["selection"][3][0] == pytest.approx(direct.selection[3].value, abs=1e-6)
    # The 3+3 by its exact closed form beside its simulation, each dose's selection within 2
    # Monte-Carlo SE of the true value (SE at the true probability over the 2000 trials; the
    # full comparison is in tests/unit/escalation/designs/test_simulate_reference.py).
    exact = exact_oc(ThreePlusThreeSettings(Variant.EXPAND), tuple(MIL97_SCENARIO))
    three = cells[1]
    assert three["exact"]["selection"] == pytest.approx([100 * p for p in exact.selection])
    for (value, _), truth in zip(
        three["oc"]["selection"], three["exact"]["selection"], strict=True
    ):
        q = truth / 100
        assert abs(value - truth) <= 2 * 100 * math.sqrt(q * (1 - q) / 2000)
    # The history keeps the request and the completion, not every progress step.
    assert [h.history_change_reason for h in simulation.history.order_by("history_id")] == [
        "Simulation requested",
        "Simulation completed",
    ]


def test_the_same_seed_gives_the_same_figures_and_another_seed_others(
    monitor, study, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = start(monitor, study)
        second = start(monitor, study)
        other = start(monitor, study, seed=8)
    first, second, other = (Simulation.objects.get(pk=s.pk) for s in (first, second, other))
    assert first.results == second.results
    assert first.results != other.results


def test_a_run_delivered_twice_runs_once(monitor, study, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        simulation = start(monitor, study)
    assert run_simulation(simulation.pk).endswith("nothing to do (completed)")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"designs": [{"name": "boin", "target": 0.9}]}, "designs", "designs[0]: design.target"),
        ({"designs": [{"name": "crm"}]}, "designs", "design.skeleton: the CRM needs a skeleton"),
        ({"designs": []}, "designs", "Give 1 to 6 designs"),
        (
            {"scenarios": [{"name": "short", "true_dlt": [0.1, 0.2]}]},
            "scenarios",
            "scenarios[0].true_dlt: one true DLT probability per dose level (6)",
        ),
        (
            {"scenarios": [{"name": "x", "true_dlt": [0.1, 0.2, 0.3, 0.2, 0.5, 0.6]}]},
            "scenarios",
            "must not fall as the dose rises",
        ),
        ({"n_trials": 50}, "n_trials", "From 100 to 100,000 trials"),
        ({"seed": -1}, "seed", "A whole number from 0"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(
    monitor, study, changes, field, message
):
    with pytest.raises(ValidationError) as raised:
        start(monitor, study, **changes)
    assert message in " ".join(raised.value.message_dict[field])
    assert not Simulation.objects.exists()


def test_site_roles_may_not_simulate(coordinator_a, study):
    with pytest.raises(PermissionDenied):
        start(coordinator_a, study)


def test_the_page_starts_a_run_and_compares_the_designs_side_by_side(
    client, monitor, study, django_capture_on_commit_callbacks
):
    client.force_login(monitor)
    page = client.get(reverse("simulations:simulations"))
    assert page.status_code == 200 and "data-simulation-form" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("simulations:simulations"),
            {
                "study": study.pk,
                "designs": ["boin", "3+3"],
                "target": "0.3",
                "cohort_size": 3,
                "max_subjects": 30,
                "variant": "expand",
                "scenarios": "MTD at level 4: " + ", ".join(str(p) for p in MIL97_SCENARIO),
                "n_trials": 1000,
                "seed": 11,
            },
        )
    simulation = Simulation.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/simulations/{simulation.pk}/")
    html = client.get(response.url).content.decode()
    assert 'data-status="completed"' in html and 'value="100"' in html
    assert 'data-comparison="1"' in html and "data-exact" in html
    assert "BOIN (target 0.3, cohort_size 3, max_subjects 30)" in html
    assert 'data-design="boin"' in html  # BOIN's decision table with the run
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(
                    reverse("simulations:simulation_csv", args=[simulation.pk])
                ).content.decode()
            )
        )
    )
    assert rows[0][:3] == ["simulation", "seed", "n_trials"]
    three = [r for r in rows if r[6].startswith("3+3") and r[7].startswith("Selected: level 1")]
    assert three and three[0][10] != ""  # the exact value beside the simulated one


def test_the_page_names_a_wrong_scenario_line(client, monitor, study):
    client.force_login(monitor)
    response = client.post(
        reverse("simulations:simulations"),
        {
            "study": study.pk,
            "designs": ["boin"],
            "target": "0.3",
            "cohort_size": 3,
            "max_subjects": 30,
            "variant": "expand",
            "scenarios": "A: 0.1, 0.2, x",
            "n_trials": 1000,
        },
    )
    assert response.status_code == 400
    assert "Line 1: the probabilities must be numbers" in response.content.decode()
    assert not Simulation.objects.exists()


def test_site_roles_get_403_on_the_page(client, coordinator_a):
    client.force_login(coordinator_a)
    assert client.get(reverse("simulations:simulations")).status_code == 403


def test_the_api_starts_reads_and_exports_a_simulation(
    monitor, coordinator_a, study, django_capture_on_commit_callbacks
):
    api = client_with_token(monitor)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/simulations/",
            {
                "study": study.pk,
                "designs": [BOIN, THREE],
                "scenarios": [{"name": "s", "true_dlt": MIL97_SCENARIO}],
                "n_trials": 1000,
                "seed": 3,
            },
            format="json",
        )
    assert response.status_code == 201, response.content
    location = response["Location"]
    detail = api.get(location).json()
    assert detail["status"] == "completed" and detail["seed"] == 3
    assert detail["comparison"][0]["columns"][1]["exact"]["selection"]
    assert api.get(detail["csv_url"]).status_code == 200
    bad = api.post(
        "/api/v1/simulations/",
        {"study": study.pk, "designs": [{"name": "boin", "target": 2}], "scenarios": []},
        format="json",
    )
    assert bad.status_code == 400
    # Site roles see no simulation.
    assert client_with_token(coordinator_a).get(location).status_code == 404


def _queries(run) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = run()
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_lists_take_a_fixed_number_of_queries(client, monitor, study, settings):
    api = client_with_token(monitor)
    client.force_login(monitor)
    page = lambda: client.get(reverse("simulations:simulations"))  # noqa: E731
    listing = lambda: api.get("/api/v1/simulations/")  # noqa: E731
    for _ in range(2):
        start(monitor, study)
    page(), listing()  # warm the per-user caches (memberships)
    few_page, few_api = _queries(page), _queries(listing)
    for _ in range(4):
        start(monitor, study)
    assert (_queries(page), _queries(listing)) == (few_page, few_api)
    assert (few_page, few_api) == (PAGE_QUERIES, API_QUERIES)


# Counted once: session, user, memberships, the studies, the form, the list (one query with
# the study and requester joined); the API: token, user, memberships, the page of rows.
PAGE_QUERIES, API_QUERIES = 14, 4
