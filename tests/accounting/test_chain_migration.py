"""Vouchers posted before the chain existed are chained by the migration, in order of posting per
organization, and the books verify."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from accounting.models import CHAIN_GENESIS, LedgerChainHead, Organization, Voucher
from accounting.services.verification import ledger_verify

BEFORE_THE_CHAIN = [("accounting", "0005_organization_and_membership_history")]


def migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def old_books(apps, slug: str, postings: list[tuple[str, datetime, str]]) -> list[int]:
    """An organization of the old schema with vouchers posted at the given times; their ids."""
    organization = apps.get_model("accounting", "Organization").objects.create(
        slug=slug, name=slug.title()
    )
    account = apps.get_model("accounting", "Account").objects
    expense = account.create(
        organization=organization, code="5200", name="Rent", account_type="expense"
    )
    bank = account.create(organization=organization, code="1120", name="Bank", account_type="asset")
    journal = apps.get_model("accounting", "VoucherType").objects.create(
        organization=organization, code="JV", name="Journal", numbering_pattern="JV-{seq}"
    )
    year = apps.get_model("accounting", "FiscalYear").objects.create(
        organization=organization,
        code="2026",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
    )
    ids = []
    for sequence, (status, posted_at, amount) in enumerate(postings, start=1):
        with transaction.atomic():  # the balance is checked at commit
            voucher = apps.get_model("accounting", "Voucher").objects.create(
                organization=organization,
                voucher_type=journal,
                fiscal_year=year,
                sequence=sequence,
                number=f"JV-{sequence}",
                date=date(2026, 3, sequence),
                status=status,
                posted_at=posted_at,
            )
            for order, (account_id, debit, credit) in enumerate(
                [(expense.pk, amount, "0"), (bank.pk, "0", amount)], start=1
            ):
                amounts = {
                    "account_id": account_id,
                    "debit": Decimal(debit),
                    "credit": Decimal(credit),
                }
                apps.get_model("accounting", "VoucherLine").objects.create(
                    voucher=voucher, order=order, **amounts
                )
                apps.get_model("accounting", "LedgerEntry").objects.create(
                    voucher=voucher,
                    organization=organization,
                    line_order=order,
                    date=voucher.date,
                    **amounts,
                )
        ids.append(voucher.pk)
    return ids


@pytest.mark.slow  # migrates the database back and forth
@pytest.mark.django_db(transaction=True)
def test_vouchers_posted_before_the_chain_are_chained_in_order_of_posting():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        old = migrate(BEFORE_THE_CHAIN).loader.project_state(BEFORE_THE_CHAIN[0]).apps
        acme = old_books(
            old,
            "acme",
            [
                ("posted", datetime(2026, 3, 9, 12, tzinfo=UTC), "30.00"),
                ("reversed", datetime(2026, 3, 2, 12, tzinfo=UTC), "10.00"),
                ("posted", datetime(2026, 3, 5, 12, tzinfo=UTC), "20.00"),
            ],
        )
        rival = old_books(old, "rival", [("posted", datetime(2026, 3, 1, tzinfo=UTC), "5.00")])
        old.get_model("accounting", "Organization").objects.create(slug="idle", name="Idle")

        migrate(latest)

        chained = dict(Voucher.objects.values_list("pk", "chain_position"))
        assert [chained[pk] for pk in acme] == [3, 1, 2]  # by posted_at, not by id
        assert chained[rival[0]] == 1
        for slug, count in (("acme", 3), ("rival", 1), ("idle", 0)):
            report = ledger_verify(organization=Organization.objects.get(slug=slug))
            assert (report.ok, report.vouchers_checked) == (True, count), report.summary()
        assert LedgerChainHead.objects.get(organization__slug="acme").last_hash == (
            Voucher.objects.get(pk=acme[0]).chain_hash
        )
        assert LedgerChainHead.objects.get(organization__slug="idle").last_hash == CHAIN_GENESIS
    finally:
        migrate(latest)
