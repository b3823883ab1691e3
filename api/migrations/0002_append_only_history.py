# The tokens' audit trail is append-only at the database level too (21 CFR 11.10(e), 11.300).
from django.db import migrations

from core.db import AppendOnlyHistory


class Migration(migrations.Migration):
    dependencies = [("api", "0001_initial")]

    operations = [
        AppendOnlyHistory("historicalapitoken"),
    ]
