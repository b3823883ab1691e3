"""Locust users of the load benchmark (bench/load/run.py writes their settings to the file named
by LOAD_CONFIG): AE entry through the API on the loaded track and on the other studies, page and
dashboard reads, and sponsors' API pulls across three studies."""

import itertools
import json
import os
import random
from datetime import date, timedelta

from locust import HttpUser, between, task

CONFIG = json.loads(open(os.environ["LOAD_CONFIG"]).read())  # noqa: SIM115
_serial = itertools.count()


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


class ApiWriter(HttpUser):
    """A site's integration entering adverse events through the API, one after another."""

    weight = int(CONFIG["writers"])
    wait_time = between(0.5, 1.5)

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
    """A coordinator reading casebooks and the AE form (signed in: a session cookie)."""

    weight = int(CONFIG["coordinators"])
    wait_time = between(1, 3)

    def on_start(self):
        self.study = random.choice(CONFIG["studies"])
        self.client.cookies.set("sessionid", self.study["coordinator_session"])

    @task(3)
    def casebook(self):
        subject = random.choice(self.study["subjects"])
        self.client.get(f"/subjects/{subject['id']}/", name="page: casebook")

    @task(1)
    def report_ae_on_the_page(self):
        subject = random.choice(self.study["subjects"])
        url = f"/subjects/{subject['id']}/adverse-events/new/"
        form = self.client.get(url, name="page: AE form")
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
    wait_time = between(1, 3)

    def on_start(self):
        self.client.cookies.set("sessionid", random.choice(CONFIG["studies"])["monitor_session"])

    @task(2)
    def overview(self):
        self.client.get("/monitoring/", name="page: escalation overview")

    @task(1)
    def ae_table(self):
        self.client.get("/monitoring/adverse-events/", name="page: AE table")

    @task(1)
    def listings(self):
        self.client.get("/monitoring/listings/", name="page: SAE and DLT listings")


class Sponsor(HttpUser):
    """A sponsor's incremental pull: cursor pages of 1,000 AEs, across the three studies."""

    weight = int(CONFIG["pullers"])
    wait_time = between(0.5, 1.5)

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
