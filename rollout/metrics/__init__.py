"""Parallel-run metrics: recording, summaries, adoption and pruning of the per-minute rows."""
