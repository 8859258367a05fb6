# The parallel-run metric models now belong to the rollout app (rollout 0001), which took over
# their tables under the same names: voucher_config forgets them in its state and leaves the
# tables and their rows where they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('voucher_config', '0003_parallel_run_metrics'),
        ('rollout', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='MetricMinute',
                ),
                migrations.DeleteModel(
                    name='ChannelUserDay',
                ),
            ],
            database_operations=[],
        ),
    ]
