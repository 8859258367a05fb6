"""When the database fails under an entry, the accountant is told plainly whether anything was
posted; a connection the server dropped is replaced before the next request uses it."""

from __future__ import annotations

import io

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection

from accounting.models import LedgerEntry, Voucher
from accounting.services import posting
from tests.legacy_entry.test_entry_pages import form_data, post_new_url, sign_in

LINES = [{"account": "5200", "debit": "10.00"}, {"account": "2300", "credit": "10.00"}]


def test_a_post_the_database_fails_under_says_nothing_was_posted(client, books, monkeypatch):
    sign_in(client, books)

    def unavailable(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    # Statement by statement (SQLite), or the write of PostgreSQL's two statements.
    monkeypatch.setattr(posting, "_ledger_entries_create", unavailable)
    monkeypatch.setattr(posting, "voucher_write_posted", unavailable)
    response = client.post(post_new_url("JV"), form_data("JV", {}, LINES, "post"))
    assert response.status_code == 503
    body = response.content.decode()
    assert "Nothing was posted — the database was unavailable; try again" in body
    assert 'data-posted="no"' in body
    assert response["Retry-After"] == "5"
    assert not Voucher.objects.exists()
    assert not LedgerEntry.objects.exists()


class FailingCommit:
    """The driver's connection, except that COMMIT fails as a dropped connection does."""

    def __init__(self, real):
        self.real = real

    def commit(self):
        raise connection.Database.OperationalError("connection lost during commit")

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.mark.django_db(transaction=True)
def test_a_failure_at_the_commit_itself_says_the_outcome_is_unknown(client, books, monkeypatch):
    # The statement-per-table way, which ends with a COMMIT on every database.
    monkeypatch.setattr(posting, "one_statement_parts", lambda **kwargs: None)
    sign_in(client, books)
    client.get(post_new_url("JV"))  # the connection is open
    real = connection.connection
    connection.connection = FailingCommit(real)
    try:
        response = client.post(post_new_url("JV"), form_data("JV", {}, LINES, "post"))
    finally:
        if isinstance(connection.connection, FailingCommit):
            connection.connection = real
    assert response.status_code == 503
    body = response.content.decode()
    assert "may or may not have been posted" in body
    assert 'data-posted="unknown"' in body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_lost_under_the_one_posting_statement_says_the_outcome_is_unknown(
    client, books
):
    """On PostgreSQL a new voucher is posted by one statement that is its own transaction: once
    it is sent, a lost connection cannot tell whether the server committed it."""
    sign_in(client, books)

    def committed_then_lost(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if sql.startswith("WITH facts AS"):
            connection.connection.close()  # the server committed; the answer never arrives
            raise OperationalError("server closed the connection unexpectedly")
        return result

    with connection.execute_wrapper(committed_then_lost):
        response = client.post(post_new_url("JV"), form_data("JV", {}, LINES, "post"))
    assert response.status_code == 503
    body = response.content.decode()
    assert "may or may not have been posted" in body
    assert 'data-posted="unknown"' in body
    connection.close()
    assert Voucher.objects.filter(status="posted").count() == 1  # and indeed it was


def wsgi_get(path: str) -> tuple[str, bytes]:
    """A request through the real WSGI handler, which (unlike the test client) closes or checks
    the connection at the start and end of every request, as gunicorn's workers do."""
    answer: dict[str, str] = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = status

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
    }
    body = b"".join(WSGIHandler()(environ, start_response))
    return answer["status"], body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_terminated_is_replaced_before_the_next_request(monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", True)
    connection.close()  # both are read when a connection opens
    assert wsgi_get("/healthz") == ("200 OK", b"ok\n")
    kept = connection.connection
    assert kept is not None and not kept.closed  # kept open for the next request
    pid = kept.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])

    assert wsgi_get("/healthz") == ("200 OK", b"ok\n")
    assert connection.connection.info.backend_pid != pid


# Found by the fault run of benchmarks/load.py: with the database stopped, requests failed in the
# middleware (the session's user, the membership) or in a partial, before the entry page's own
# handling, and answered a bare 500 that did not say whether the voucher was posted.


def database_down(*args, **kwargs):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: refused')


def test_a_post_failing_in_the_middleware_says_nothing_was_posted(books, monkeypatch):
    from django.test import Client

    from accounting.middleware import ActiveOrganizationMiddleware

    client = Client(raise_request_exception=False)
    sign_in(client, books)
    data = form_data("JV", {}, LINES, "post")
    monkeypatch.setattr(ActiveOrganizationMiddleware, "memberships", database_down)
    response = client.post(post_new_url("JV"), data)
    assert response.status_code == 503
    body = response.content.decode()
    assert "Nothing was posted — the database was unavailable; try again" in body
    assert 'data-posted="no"' in body
    assert response["Retry-After"] == "5"
    assert not Voucher.objects.exists()


def test_a_page_or_partial_failing_on_the_database_says_it_could_not_be_read(books, monkeypatch):
    from django.test import Client

    from accounting.middleware import ActiveOrganizationMiddleware

    client = Client(raise_request_exception=False)
    sign_in(client, books)
    monkeypatch.setattr(ActiveOrganizationMiddleware, "memberships", database_down)
    for url in (post_new_url("JV"), "/vouchers/JV/entry/accounts/?q=52"):
        response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 503, url
        assert "The database is unavailable; try again" in response.content.decode()


def test_any_other_server_error_stays_a_plain_500(books, monkeypatch):
    from django.test import Client

    from accounting.middleware import ActiveOrganizationMiddleware

    def broken(*args, **kwargs):
        raise RuntimeError("a bug, not the database")

    client = Client(raise_request_exception=False)
    sign_in(client, books)
    monkeypatch.setattr(ActiveOrganizationMiddleware, "memberships", broken)
    response = client.get(post_new_url("JV"))
    assert response.status_code == 500
    assert "data-posted" not in response.content.decode()
