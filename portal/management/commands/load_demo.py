"""A small demo data set: sites, one user per role, a few subjects entered through the services."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.admin_rights import configuration_group
from accounts.models import Membership, User
from accounts.roles import Role
from core.dates import site_today
from dosing.services import dose_record
from efficacy.demo import load_demo_assessments
from pharmacology import demo as pharmacology_demo
from safety.models import CtcaeTerm
from safety.services import adverse_event_report
from subjects.models import Subject
from subjects.services import (
    subject_enroll,
    subject_record_consent,
    subject_record_demographics,
    subject_record_eligibility,
    subject_screen,
)
from trial.models import Cohort, Site, Study
from visits.demo import load_demo_forms

DEMO_PASSWORD = "phase1-demo"
SITES = [
    ("101", "Lakeside Cancer Center", "US", "America/New_York", "Dr. Ana Ruiz"),
    ("102", "Harbour Oncology Institute", "AU", "Australia/Sydney", "Dr. Sam Okafor"),
]
USERS = [
    ("coordinator_a", "Casey", "Adams", Role.COORDINATOR, ["101"]),
    ("coordinator_b", "Blake", "Brown", Role.COORDINATOR, ["102"]),
    ("investigator", "Ana", "Ruiz", Role.INVESTIGATOR, ["101"]),
    ("monitor", "Morgan", "Lee", Role.MEDICAL_MONITOR, []),
    ("datamanager", "Dana", "Kim", Role.DATA_MANAGER, []),
    ("sponsor", "Sydney", "Park", Role.SPONSOR, []),
    ("admin", "Alex", "Admin", Role.ADMIN, []),
]


class Command(BaseCommand):
    help = "Load demo sites, one user per role and a few subjects (skipped if already loaded)."

    def add_arguments(self, parser):
        parser.add_argument("--study", default="MIL97-001")

    @transaction.atomic
    def handle(self, *args, study, **options):
        study = Study.objects.get(protocol_number=study)
        sites = {}
        for number, name, country, tz, pi in SITES:
            site, _ = Site.objects.get_or_create(
                study=study,
                number=number,
                defaults=dict(
                    name=name,
                    country=country,
                    timezone=tz,
                    principal_investigator=pi,
                    is_active=True,
                    activated_on=site_today(tz) - timedelta(days=90),
                ),
            )
            sites[number] = site
        users = {}
        for username, first, last, role, site_numbers in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults=dict(first_name=first, last_name=last, email=f"{username}@example.org"),
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.is_staff = role == Role.ADMIN
                user._change_reason = "Demo user"
                user.save()
            if role == Role.ADMIN:
                # Staff with configuration rights, not a superuser: no clinical powers, and no
                # power to grant any (accounts/admin_rights.py).
                if user.is_superuser or not user.is_staff:
                    user.is_superuser, user.is_staff = False, True
                    user._change_reason = "Demo study administrator: configuration rights only"
                    user.save()
                user.groups.add(configuration_group())
            membership, _ = Membership.objects.get_or_create(
                user=user, study=study, defaults={"role": role}
            )
            membership.sites.set([sites[n] for n in site_numbers])
            users[username] = user
        if not Subject.all_objects.filter(study=study).exists():
            self._subjects(study, sites, users)
        self.stdout.write(f"Demo users (password: {DEMO_PASSWORD}):")
        for username, _first, _last, role, site_numbers in USERS:
            where = f" at site {', '.join(site_numbers)}" if site_numbers else " (whole study)"
            self.stdout.write(f"  {username:<14} {role.label}{where}")

    def _subjects(self, study, sites, users):
        coordinator = users["coordinator_a"]
        site = sites["101"]
        today = site_today(site.timezone)
        criteria = {c: True for c in study.inclusion_criteria()} | {
            c: False for c in study.exclusion_criteria()
        }
        subject = subject_screen(
            by=coordinator,
            site=site,
            screening_number="S101-001",
            sex="F",
            year_of_birth=1961,
            screening_date=today - timedelta(days=40),
        )
        subject = subject_record_consent(
            by=coordinator,
            subject=subject,
            consent_date=today - timedelta(days=40),
            consent_version="v2.0",
            expected_version=None,
        )
        subject = subject_record_demographics(
            by=coordinator,
            subject=subject,
            ethnicity="NOT HISPANIC OR LATINO",
            races=["WHITE"],
            expected_version=None,
        )
        subject = subject_record_eligibility(
            by=coordinator,
            subject=subject,
            answers=criteria,
            assessed_on=today - timedelta(days=36),
            expected_version=None,
        )
        cohort = Cohort.objects.get(study=study, number=1)
        if cohort.status == Cohort.Status.OPEN:
            subject = subject_enroll(
                by=coordinator,
                subject=subject,
                cohort=cohort,
                enrollment_date=today - timedelta(days=33),
            )
            tz = ZoneInfo(site.timezone)
            day1 = today - timedelta(days=30)
            dose = dose_record(
                by=coordinator,
                subject=subject,
                cycle=1,
                day=1,
                actual_dose_per_kg=cohort.dose_level.amount,
                body_weight_kg=Decimal("68.5"),
                infusion_start=datetime.combine(day1, time(9, 30), tz),
                infusion_end=datetime.combine(day1, time(11, 0), tz),
                lot_number="MIL97-L001",
            )
            load_demo_forms(
                by=coordinator, subject=subject, consent_on=today - timedelta(days=40), day1=day1
            )
            # PK, ADA and biomarker samples of Cycle 1 and the laboratory's results.
            pharmacology_demo.load(
                subject=subject,
                dose=dose,
                coordinator=coordinator,
                data_manager=users["datamanager"],
            )
            fatigue = CtcaeTerm.objects.filter(term="Fatigue").first()
            if fatigue is not None:
                adverse_event_report(
                    by=coordinator,
                    subject=subject,
                    ctcae_term=fatigue,
                    verbatim_term="Tiredness",
                    grade=1,
                    onset_date=day1 + timedelta(days=3),
                    resolution_date=day1 + timedelta(days=8),
                    relationship="unlikely",
                    action_taken="none",
                    outcome="recovered",
                )
        load_demo_assessments(study, coordinator)  # efficacy: baseline and a follow-up scan
        other = sites["102"]
        subject_screen(
            by=users["coordinator_b"],
            site=other,
            screening_number="S102-001",
            sex="M",
            year_of_birth=1958,
            screening_date=site_today(other.timezone) - timedelta(days=2),
        )
