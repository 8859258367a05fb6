"""The vouchers' hash chain: each posted voucher's place, previous hash and hash, and a head per
organization; vouchers posted before it are chained here, in order of posting.

The guard on posted vouchers is widened to freeze who created, approved and posted a voucher,
when, what it reverses, and its chain link once written. (On SQLite the new columns and the
constraint rebuild the voucher table, which its trigger and the lines' trigger, naming it, would
not survive: both are dropped first and made again at the end.)
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F

from accounting.services.chain import ChainContent, chain_hash, ledger_rows_in_order

GENESIS = "0" * 64
CHUNK = 500

POSTGRES_GUARD = r"""
CREATE OR REPLACE FUNCTION accounting_posted_voucher_immutable() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status IN ('posted', 'reversed') THEN
            RAISE EXCEPTION 'posted voucher % cannot be deleted', OLD.number
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status IN ('posted', 'reversed') AND NOT (
        OLD.status = 'posted' AND NEW.status IN ('posted', 'reversed')
        AND (NEW.number, NEW.sequence, NEW.date, NEW.fiscal_year_id, NEW.voucher_type_id,
             NEW.organization_id, NEW.party_id, NEW.reference, NEW.narration, NEW.data::text,
             NEW.reversal_of_id, NEW.created_by_id, NEW.approved_by_id, NEW.approved_at,
             NEW.posted_by_id, NEW.posted_at)
            IS NOT DISTINCT FROM
            (OLD.number, OLD.sequence, OLD.date, OLD.fiscal_year_id, OLD.voucher_type_id,
             OLD.organization_id, OLD.party_id, OLD.reference, OLD.narration, OLD.data::text,
             OLD.reversal_of_id, OLD.created_by_id, OLD.approved_by_id, OLD.approved_at,
             OLD.posted_by_id, OLD.posted_at)
        -- The chain link is written once, by the transaction that posts.
        AND (OLD.chain_hash = ''
             OR (NEW.chain_position, NEW.chain_previous, NEW.chain_hash)
                IS NOT DISTINCT FROM (OLD.chain_position, OLD.chain_previous, OLD.chain_hash))
    ) THEN
        RAISE EXCEPTION 'posted voucher % cannot be changed', OLD.number
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER accounting_posted_voucher_immutable
    BEFORE UPDATE OR DELETE ON accounting_voucher
    FOR EACH ROW EXECUTE FUNCTION accounting_posted_voucher_immutable();
"""

SQLITE_GUARD = """
CREATE TRIGGER accounting_posted_voucher_immutable BEFORE UPDATE ON accounting_voucher
WHEN OLD.status IN ('posted', 'reversed') AND NOT (
    OLD.status = 'posted' AND NEW.status IN ('posted', 'reversed')
    AND NEW.number IS OLD.number AND NEW.sequence IS OLD.sequence AND NEW.date IS OLD.date
    AND NEW.fiscal_year_id IS OLD.fiscal_year_id AND NEW.voucher_type_id IS OLD.voucher_type_id
    AND NEW.organization_id IS OLD.organization_id AND NEW.party_id IS OLD.party_id
    AND NEW.reference IS OLD.reference AND NEW.narration IS OLD.narration
    AND NEW.data IS OLD.data
    AND NEW.reversal_of_id IS OLD.reversal_of_id AND NEW.created_by_id IS OLD.created_by_id
    AND NEW.approved_by_id IS OLD.approved_by_id AND NEW.approved_at IS OLD.approved_at
    AND NEW.posted_by_id IS OLD.posted_by_id AND NEW.posted_at IS OLD.posted_at
    AND (OLD.chain_hash = ''
         OR (NEW.chain_position IS OLD.chain_position
             AND NEW.chain_previous IS OLD.chain_previous AND NEW.chain_hash IS OLD.chain_hash)))
BEGIN SELECT RAISE(ABORT, 'posted voucher cannot be changed'); END;
"""

# As in 0002.
SQLITE_LINE_GUARD = """
CREATE TRIGGER accounting_posted_line_immutable BEFORE UPDATE ON accounting_voucherline
WHEN EXISTS (SELECT 1 FROM accounting_voucher
             WHERE id = OLD.voucher_id AND status IN ('posted', 'reversed'))
BEGIN SELECT RAISE(ABORT, 'lines of a posted voucher cannot be changed'); END;
"""


def guards_drop(apps, schema_editor):
    """The triggers that name the voucher table (the old guard also refuses any change to a
    reversed voucher, which the backfill makes)."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            "DROP TRIGGER IF EXISTS accounting_posted_voucher_immutable ON accounting_voucher"
        )
    elif vendor == "sqlite":
        schema_editor.execute("DROP TRIGGER IF EXISTS accounting_posted_voucher_immutable")
        schema_editor.execute("DROP TRIGGER IF EXISTS accounting_posted_line_immutable")


def _chain_backfill(apps, schema_editor):
    """Chains every voucher already posted, per organization in order of posting."""
    db = schema_editor.connection.alias
    Organization = apps.get_model("accounting", "Organization")
    Voucher = apps.get_model("accounting", "Voucher")
    LedgerEntry = apps.get_model("accounting", "LedgerEntry")
    LedgerChainHead = apps.get_model("accounting", "LedgerChainHead")
    for organization_id in Organization.objects.using(db).order_by("pk").values_list(
        "pk", flat=True
    ):
        position, previous = 0, GENESIS
        ids = list(
            Voucher.objects.using(db)
            .filter(organization_id=organization_id, status__in=["posted", "reversed"])
            .order_by(F("posted_at").asc(nulls_first=True), "pk")
            .values_list("pk", flat=True)
        )
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            vouchers = Voucher.objects.using(db).in_bulk(chunk)
            rows = {pk: [] for pk in chunk}
            for voucher_id, *row in (
                LedgerEntry.objects.using(db)
                .filter(voucher_id__in=chunk)
                .values_list(
                    "voucher_id",
                    "id",
                    "line_order",
                    "account_id",
                    "debit",
                    "credit",
                    "party_id",
                    "description",
                )
            ):
                rows[voucher_id].append(row)
            for pk in chunk:
                voucher = vouchers[pk]
                position += 1
                content = ChainContent.of(voucher, ledger_rows_in_order(rows[pk]))
                voucher.chain_position = position
                voucher.chain_previous = previous
                voucher.chain_hash = previous = chain_hash(
                    content, position=position, previous=previous
                )
            Voucher.objects.using(db).bulk_update(
                [vouchers[pk] for pk in chunk],
                ["chain_position", "chain_previous", "chain_hash"],
            )
        LedgerChainHead.objects.using(db).create(
            organization_id=organization_id, last_position=position, last_hash=previous
        )


def chain_install(apps, schema_editor):
    _chain_backfill(apps, schema_editor)
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_GUARD, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_GUARD)
        schema_editor.execute(SQLITE_LINE_GUARD)


def guards_of_0002_reinstall(apps, schema_editor):
    # Runs last when going back, once the voucher table has its old columns again.
    guards = importlib.import_module("accounting.migrations.0002_ledger_integrity_triggers")
    guards.uninstall(apps, schema_editor)
    guards.install(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("accounting", "0005_organization_and_membership_history"),
    ]

    operations = [
        migrations.RunPython(guards_drop, guards_of_0002_reinstall),
        migrations.CreateModel(
            name="LedgerChainHead",
            fields=[
                (
                    "organization",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="accounting.organization",
                    ),
                ),
                ("last_position", models.PositiveIntegerField(default=0)),
                ("last_hash", models.CharField(default=GENESIS, max_length=64)),
            ],
        ),
        migrations.AddField(
            model_name="voucher",
            name="chain_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddField(
            model_name="voucher",
            name="chain_position",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="voucher",
            name="chain_previous",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddConstraint(
            model_name="voucher",
            constraint=models.UniqueConstraint(
                fields=("organization", "chain_position"), name="voucher_chain_position_unique"
            ),
        ),
        migrations.RunPython(chain_install, guards_drop),
    ]
