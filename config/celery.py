"""The Celery application.

Without REDIS_URL the settings make every task run in process (eager), after the surrounding
transaction commits, so a newcomer needs no broker. With REDIS_URL set, a real worker consumes
the Redis queue and Celery beat runs the periodic sweeps.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("edc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
