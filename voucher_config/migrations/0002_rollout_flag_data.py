"""Creates the rollout flag, off for everyone, and the group for the internal testing team."""

from django.db import migrations

FLAG = "voucher_config_ui"
TESTERS = "Voucher UI testers"


def create(apps, schema_editor):
    Flag = apps.get_model("waffle", "Flag")
    Group = apps.get_model("auth", "Group")
    Flag.objects.get_or_create(
        name=FLAG,
        defaults={
            "everyone": None,
            "superusers": False,
            "note": "Serves voucher entry from the configuration-driven UI. Off: legacy UI for all.",
        },
    )
    Group.objects.get_or_create(name=TESTERS)


def remove(apps, schema_editor):
    apps.get_model("waffle", "Flag").objects.filter(name=FLAG).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("voucher_config", "0001_initial"),
        ("waffle", "0004_update_everyone_nullbooleanfield"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create, remove)]
