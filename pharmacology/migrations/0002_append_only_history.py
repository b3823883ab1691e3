from django.db import migrations

from core.db import AppendOnlyHistory


class Migration(migrations.Migration):
    dependencies = [("pharmacology", "0001_initial")]

    operations = [
        AppendOnlyHistory("historicalstudypharmacology"),
        AppendOnlyHistory("historicalsample"),
        AppendOnlyHistory("historicallabimport"),
        AppendOnlyHistory("historicalconcentration"),
        AppendOnlyHistory("historicaladaresult"),
        AppendOnlyHistory("historicalbiomarkerresult"),
        AppendOnlyHistory("historicalncaanalysis"),
    ]
