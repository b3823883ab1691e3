# The audit trail is append-only at the database level too (21 CFR 11.10(e)).
from django.db import migrations

from core.db import AppendOnlyHistory


class Migration(migrations.Migration):
    dependencies = [("simulations", "0001_initial")]

    operations = [
        AppendOnlyHistory("historicalsimulation"),
    ]
