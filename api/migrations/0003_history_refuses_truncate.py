# TRUNCATE on a history table is refused too (21 CFR 11.10(e)): row triggers never see it.
# One migration for every history table that exists by now, whichever app it belongs to; later
# history tables get both triggers from core.db.AppendOnlyHistory.
from django.db import migrations

from core.db import HistoryRefusesTruncate


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_append_only_history"),
        ("accounts", "0003_append_only_history"),
        ("core", "0002_append_only_history"),
        ("dosing", "0002_append_only_history"),
        ("escalation", "0003_committeedecision_track_and_more"),
        ("safety", "0002_append_only_history"),
        ("subjects", "0005_screening_number_unique_ignoring_case"),
        ("trial", "0004_remove_doselevel_dose_level_amount_unique_and_more"),
    ]

    operations = [HistoryRefusesTruncate()]
