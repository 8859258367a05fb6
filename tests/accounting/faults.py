"""Faults injected into posting on PostgreSQL, where a voucher is written by one statement."""

from __future__ import annotations

from accounting.services import posting_postgres

_END = " FROM facts f LEFT JOIN new_voucher v ON true"


def posting_statement_fails_at_its_end(monkeypatch) -> None:
    """The statement that posts a voucher fails once everything is written and the counter and
    chain head are taken (a division by zero in its last SELECT, by the voucher's id less
    itself): nothing of it may stay."""
    write = posting_postgres._post_sql

    def failing(*args):
        sql = write(*args)
        assert sql.endswith(_END)
        return sql.removesuffix(_END) + ", 1 / (v.id - v.id)" + _END

    monkeypatch.setattr(posting_postgres, "_post_sql", failing)
