"""Locust users of the load benchmark (bench/load/run.py writes their settings to the file named
by LOAD_CONFIG): AE entry through the API and on the pages of studies 1 and 2 (study 1's track is
the loaded one; study 3's, the quiet one, is only read), page and dashboard reads, and sponsors'
API pulls across three studies.

Every user waits 1-3 s between two actions (`THINK_TIME`, run.py's docstring says why): the
traffic of people and integrations, not a tight loop."""

import itertools
import json
import os
import random
from datetime import date, timedelta

from locust import HttpUser, between, task

CONFIG = json.loads(open(os.environ["LOAD_CONFIG"]).read())  # noqa: SIM115
_serial = itertools.count()
_coordinators = itertools.count()
# Between two actions of one user: a coordinator or an integration enters an AE every few seconds,
# a person reads a page before opening the next, a sponsor's pull paces its pages.
THINK_TIME = between(1, 3)


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def page(user: HttpUser, url: str, name: str):
    """A signed-in page: anything but 200 (a redirect to the sign-in page included) is an error."""
    with user.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
        if response.status_code != 200:
            response.failure(f"status {response.status_code}")
        return response


class ApiWriter(HttpUser):
    """A site's integration (or a coordinator's tool) entering an AE through the API every few
    seconds, on study 1 or 2."""

    weight = int(CONFIG["writers"])
    wait_time = THINK_TIME

    def on_start(self):
        self.study = CONFIG["writes"][next(_serial) % len(CONFIG["writes"])]

    @task
    def report_ae(self):
        subject = random.choice(self.study["subjects"])
        onset = date.fromisoformat(subject["first_dose"]) + timedelta(days=random.randint(0, 20))
        self.client.post(
            "/api/v1/adverse-events/",
            json={
                "subject": subject["id"],
                "meddra_code": CONFIG["meddra_code"],
                "verbatim_term": "fatigue (load)",
                "grade": random.choice([1, 2]),
                "onset_date": onset.isoformat(),
                "relationship": random.choice(["not_related", "unlikely", "possible"]),
                "action_taken": "none",
                "outcome": "not_recovered",
            },
            headers=auth(self.study["token"]),
            name="API: report an AE",
        )


class Coordinator(HttpUser):
    """A coordinator reading casebooks and entering AEs on the AE form (signed in: a session
    cookie). One on the quiet study (study 3) only reads: nothing but the probe writes there."""

    weight = int(CONFIG["coordinators"])
    wait_time = THINK_TIME

    def on_start(self):
        self.study = CONFIG["studies"][next(_coordinators) % len(CONFIG["studies"])]
        self.writes = self.study["protocol"] in {s["protocol"] for s in CONFIG["writes"]}
        self.client.cookies.set("sessionid", self.study["coordinator_session"])

    @task(3)
    def casebook(self):
        subject = random.choice(self.study["subjects"])
        page(self, f"/subjects/{subject['id']}/", "page: casebook")

    @task(1)
    def report_ae_on_the_page(self):
        if not self.writes:
            self.casebook()
            return
        subject = random.choice(self.study["subjects"])
        url = f"/subjects/{subject['id']}/adverse-events/new/"
        form = page(self, url, "page: AE form")
        token = self.client.cookies.get("csrftoken")
        if form.status_code != 200 or not token:
            return
        onset = date.fromisoformat(subject["first_dose"]) + timedelta(days=random.randint(0, 20))
        with self.client.post(
            url,
            data={
                "csrfmiddlewaretoken": token,
                "ctcae_term": CONFIG["ctcae_term_id"],
                "verbatim_term": "fatigue (page)",
                "grade": "1",
                "onset_date": onset.isoformat(),
                "relationship": "unlikely",
                "action_taken": "none",
                "outcome": "not_recovered",
            },
            headers={"Referer": self.host + url},
            allow_redirects=False,
            name="page: report an AE",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"not saved (status {response.status_code})")


class Monitor(HttpUser):
    """A medical monitor on the dashboards."""

    weight = int(CONFIG["monitors"])
    wait_time = THINK_TIME

    def on_start(self):
        self.client.cookies.set("sessionid", random.choice(CONFIG["studies"])["monitor_session"])

    @task(2)
    def overview(self):
        page(self, "/monitoring/", "page: escalation overview")

    @task(1)
    def ae_table(self):
        page(self, "/monitoring/adverse-events/", "page: AE table")

    @task(1)
    def listings(self):
        page(self, "/monitoring/listings/", "page: SAE and DLT listings")


class Sponsor(HttpUser):
    """A sponsor's incremental pull: cursor pages of 1,000 AEs, across the three studies."""

    weight = int(CONFIG["pullers"])
    wait_time = THINK_TIME

    def on_start(self):
        self.study = random.choice(CONFIG["studies"])
        self.next = None

    @task
    def pull_page(self):
        url = self.next or "/api/v1/adverse-events/?page_size=1000"
        with self.client.get(
            url, headers=auth(self.study["sponsor_token"]), name="API: AE page of 1000",
            catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            following = response.json()["next"]
            self.next = following[following.index("/api/") :] if following else None
