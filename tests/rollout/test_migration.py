"""Moving the metric models from voucher_config to rollout keeps every row where it was."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from rollout.models import ChannelUserDay, MetricMinute

METRICS_IN_VOUCHER_CONFIG = ("voucher_config", "0003_parallel_run_metrics")
# voucher_config back to 0003, and rollout unapplied (0004 depends on rollout 0001 anyway).
BEFORE_THE_MOVE = [METRICS_IN_VOUCHER_CONFIG, ("rollout", None)]
NOON = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def migrate(targets) -> MigrationExecutor:
    """Migrates to `targets` with a graph read afresh from the migrations table."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


@pytest.mark.postgres
def test_metric_rows_written_before_the_move_are_read_through_the_rollout_models(
    transactional_db,
):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        executor = migrate(BEFORE_THE_MOVE)
        applied = MigrationRecorder(connection).applied_migrations()
        assert METRICS_IN_VOUCHER_CONFIG in applied
        assert ("rollout", "0001_initial") not in applied
        old = executor.loader.project_state(METRICS_IN_VOUCHER_CONFIG).apps
        user = old.get_model("auth", "User").objects.create(username="clerk")
        old.get_model("voucher_config", "MetricMinute").objects.create(
            minute=NOON, name="voucher_posted", channel="config", voucher_type="PV", count=3
        )
        old.get_model("voucher_config", "ChannelUserDay").objects.create(
            day=date(2026, 3, 15), user=user, channel="config"
        )

        migrate(latest)

        row = MetricMinute.objects.get()
        assert (row.minute, row.name, row.channel, row.voucher_type, row.count) == (
            NOON,
            "voucher_posted",
            "config",
            "PV",
            3,
        )
        mark = ChannelUserDay.objects.get()
        assert (mark.day, mark.user_id, mark.channel) == (date(2026, 3, 15), user.pk, "config")
    finally:
        migrate(latest)  # whatever happened, leave the schema as the other tests expect it
