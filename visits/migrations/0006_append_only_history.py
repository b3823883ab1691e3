# The audit trail is append-only at the database level too (21 CFR 11.10(e)): the visit
# schedule and the casebook forms' history tables get the same triggers as every other app's.
from django.db import migrations

from core.db import AppendOnlyHistory


class Migration(migrations.Migration):
    dependencies = [("visits", "0005_survival_contacts")]

    operations = [
        AppendOnlyHistory("historicalconcomitantmedication"),
        AppendOnlyHistory("historicalecgassessment"),
        AppendOnlyHistory("historicalecogassessment"),
        AppendOnlyHistory("historicallabresult"),
        AppendOnlyHistory("historicalmedicalhistory"),
        AppendOnlyHistory("historicalsurvivalcontact"),
        AppendOnlyHistory("historicalvisit"),
        AppendOnlyHistory("historicalvisitschedule"),
        AppendOnlyHistory("historicalvitalsigns"),
    ]
