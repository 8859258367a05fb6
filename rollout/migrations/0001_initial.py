# The parallel-run metric models move here from voucher_config. Their tables keep the names they
# were created with (voucher_config 0003), so this migration changes the state only: no table is
# created, renamed or copied.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('voucher_config', '0003_parallel_run_metrics'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='MetricMinute',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('minute', models.DateTimeField()),
                        ('name', models.CharField(choices=[('voucher_created', 'Vouchers created'), ('voucher_posted', 'Vouchers posted'), ('post_failed', 'Posts that failed'), ('htmx_error', 'HTMX endpoint errors'), ('fallback', 'Fallbacks to the legacy UI'), ('db_error', 'Database errors'), ('form_load_ms', 'Form load, server (ms)'), ('browser_load_ms', 'Form load, browser (ms)'), ('session_ms', 'Time on an entry page (ms)')], max_length=30)),
                        ('channel', models.CharField(blank=True, max_length=20)),
                        ('voucher_type', models.CharField(blank=True, max_length=10)),
                        ('reason', models.CharField(blank=True, max_length=100)),
                        ('bucket', models.IntegerField(default=-1)),
                        ('count', models.PositiveBigIntegerField(default=0)),
                        ('total', models.FloatField(default=0)),
                    ],
                    options={
                        'verbose_name': 'metric minute',
                        'db_table': 'voucher_config_metricminute',
                        'constraints': [models.UniqueConstraint(fields=('minute', 'name', 'channel', 'voucher_type', 'reason', 'bucket'), name='one_metric_row_per_minute_and_labels')],
                    },
                ),
                migrations.CreateModel(
                    name='ChannelUserDay',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('day', models.DateField()),
                        ('channel', models.CharField(max_length=20)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'active user per channel and day',
                        'db_table': 'voucher_config_channeluserday',
                        'constraints': [models.UniqueConstraint(fields=('day', 'user', 'channel'), name='one_active_mark_per_user_day_channel')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
