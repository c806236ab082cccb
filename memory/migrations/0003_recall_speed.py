from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("memory", "0002_dashboard_indexes")]

    operations = []
