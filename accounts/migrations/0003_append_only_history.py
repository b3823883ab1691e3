# The audit trail is append-only at the database level too (21 CFR 11.10(e)).
from django.db import migrations

from core.db import AppendOnlyHistory


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial")]

    operations = [
        AppendOnlyHistory("historicalmembership"),
        AppendOnlyHistory("historicalmembership_sites"),
        AppendOnlyHistory("historicaluser"),
    ]
