from django.db import migrations


def add_sources(apps, schema_editor):
    # One row per source so the admin's "Sync now" has something to act on from day one.
    lease = apps.get_model("integrations", "SyncLease")
    for source in ("superops", "quickbooks"):
        lease.objects.get_or_create(source=source)


class Migration(migrations.Migration):
    dependencies = [("integrations", "0001_initial")]
    operations = [migrations.RunPython(add_sources, migrations.RunPython.noop)]
