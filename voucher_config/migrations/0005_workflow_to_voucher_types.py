"""Existing configurations' workflows become their voucher types' own facts."""

from django.db import migrations


def workflow_to_voucher_types(apps, schema_editor):
    VoucherTypeConfig = apps.get_model("voucher_config", "VoucherTypeConfig")
    for config in VoucherTypeConfig.objects.select_related("voucher_type"):
        workflow = (config.definition or {}).get("workflow") or {}
        voucher_type = config.voucher_type
        voucher_type.requires_approval = bool(workflow.get("requires_approval"))
        voucher_type.approver_role = workflow.get("approver_role") or "accountant"
        voucher_type.poster_role = workflow.get("poster_role") or "accountant"
        voucher_type.save(update_fields=["requires_approval", "approver_role", "poster_role"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounting", "0003_voucher_workflow_and_submission"),
        ("voucher_config", "0004_metrics_moved_to_rollout"),
    ]

    operations = [migrations.RunPython(workflow_to_voucher_types, migrations.RunPython.noop)]
