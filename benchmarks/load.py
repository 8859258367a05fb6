"""L and LF: simulated accountants against the production server, then the books checked.

`python -m benchmarks.run --only L` (the load test) and `--only LF` (the fault run) start the
site as production serves it: gunicorn with config/gunicorn.conf.py, DEBUG off, static files
collected and served by WhiteNoise, Redis as the shared cache (a database number of its own),
PostgreSQL. Accountants are threads of this process, each with its own session:

    log in -> open the entry page (routed: half the users are in the rollout group that gets the
    configuration screen, the others get the legacy screen) -> add two lines through the partials
    (legacy: the form's "add line" re-render) -> search accounts and refresh the totals
    (configuration screen) -> post a 4-line payment, with a think time of 2-6 s between steps.

The client is the standard library (threads and urllib), not locust: locust's gevent patches the
socket and threading modules of the whole process, which also holds Django and psycopg for the
books check; gunicorn's sync workers close every connection after its response, so a pooled
keep-alive client would gain nothing. The load generator is pinned to CPU 0 and the server to
CPU 1 (`os.sched_setaffinity`), so that the clients do not take the server's core.

Every post carries a reference `LT<run>-<user>-<n>`. After the run the books are checked: every
post a client saw succeed is in the ledger once, nothing else with the run's references is
posted, numbering is unique and gapless per voucher type and fiscal year, the ledger rows equal
the posted lines, and `ledger_verify` is clean.

The fault run (LF) starts a throwaway PostgreSQL cluster of its own (initdb, port 55432) so that
it may stop and start it, and under load: SIGKILLs one gunicorn worker, terminates the app's
database connections (`pg_terminate_backend`, this database's backends only), then restarts the
cluster. Failed requests are counted per fault; requests made while the database is down are
counted apart. A post that fails is retried with the same form (same submission key), as an
accountant told "nothing was posted" or "not known" would do.
"""

from __future__ import annotations

import argparse
import contextlib
import html.parser
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from benchmarks.registry import BenchContext, Figure, benchmark

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("BENCH_PG_BIN", "/usr/lib/postgresql/15/bin"))
FAULT_PORT = int(os.environ.get("BENCH_FAULT_PG_PORT", "55432"))
REDIS_BASE = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", "4"))
STAGES = (10, 50, 100)
STAGE_SECONDS = float(os.environ.get("BENCH_LOAD_STAGE_SECONDS", "50"))
THINK = (2.0, 6.0)
CONFIG_GROUP = "load-config"
PASSWORD = "load-accountant-" + "x" * 8
ORG = "demo"
TYPE_CODE = "PV"
# Four expense lines of a payment voucher; the bank account pays them.
BANK = "1120"
LINE_ACCOUNTS = ["5200", "5400", "5200", "5400"]
SEARCH_TERMS = ["52", "54", "rent", "ele"]


# ------------------------------------------------------------------ pure parts: figures


def percentile(samples: list[float], pct: float) -> float:
    """The pct-th percentile with linear interpolation between the closest ranks (inclusive)."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Sample:
    endpoint: str
    started: float  # time.monotonic() when the request was sent
    ms: float
    ok: bool
    status: int  # 0: no HTTP answer (refused, reset, timed out)


@dataclass
class EndpointStats:
    endpoint: str
    count: int
    errors: int
    per_second: float
    p50: float
    p95: float
    p99: float


def summarize(samples: list[Sample], seconds: float) -> list[EndpointStats]:
    """Per endpoint: requests, errors, requests/s over `seconds`, and p50/p95/p99 in ms."""
    by_endpoint: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_endpoint[sample.endpoint].append(sample)
    out = []
    for endpoint in sorted(by_endpoint):
        group = by_endpoint[endpoint]
        times = [s.ms for s in group]
        out.append(
            EndpointStats(
                endpoint=endpoint,
                count=len(group),
                errors=sum(not s.ok for s in group),
                per_second=len(group) / seconds if seconds else 0.0,
                p50=percentile(times, 50),
                p95=percentile(times, 95),
                p99=percentile(times, 99),
            )
        )
    return out


def screen_ratio(stats: list[EndpointStats], step: str) -> float | None:
    """p95 of the configuration screen's `step` over the legacy screen's (≤ 1: config as fast)."""
    by_name = {s.endpoint: s for s in stats}
    config, legacy = by_name.get(f"{step} (config)"), by_name.get(f"{step} (legacy)")
    if not config or not legacy or not legacy.p95:
        return None
    return config.p95 / legacy.p95


def failures_by_window(
    samples: list[Sample], windows: list[tuple[str, float, float]]
) -> dict[str, tuple[int, int]]:
    """(failed, total) requests sent inside each named [start, end) window."""
    out = {}
    for name, start, end in windows:
        inside = [s for s in samples if start <= s.started < end]
        out[name] = (sum(not s.ok for s in inside), len(inside))
    return out


# ------------------------------------------------------------------ pure parts: the books


def sequences_gaps(sequences: dict[tuple[Any, ...], list[int]]) -> list[str]:
    """Problems with each series' sequence numbers: each must be 1..n, each once."""
    problems = []
    for series, numbers in sorted(sequences.items(), key=lambda item: str(item[0])):
        doubled = sorted(n for n, c in Counter(numbers).items() if c > 1)
        if doubled:
            problems.append(f"series {series}: numbers used twice {doubled[:10]}")
        missing = sorted(set(range(1, max(numbers, default=0) + 1)) - set(numbers))
        if missing:
            problems.append(f"series {series}: gaps {missing[:10]}")
    return problems


def books_check(
    *, prefix: str, seen_posted: set[str], told_not_posted: set[str], slug: str = ORG
) -> dict[str, Any]:
    """The books after a run (needs Django set up on the run's database).

    `seen_posted`: references whose post a client saw succeed; `told_not_posted`: references
    whose every attempt the server answered "nothing was posted". Anything else a client sent
    and never heard the end of may or may not be posted; it is counted, not judged.
    """
    from django.db.models import Sum

    from accounting.models import LedgerEntry, Organization, Voucher, VoucherLine, VoucherStatus
    from accounting.services.verification import ledger_verify

    organization = Organization.objects.get(slug=slug)
    posted_states = [VoucherStatus.POSTED, VoucherStatus.REVERSED]
    ours = Voucher.objects.filter(
        organization=organization, reference__startswith=prefix, status__in=posted_states
    )
    in_ledger = Counter(ours.values_list("reference", flat=True))
    problems: list[str] = []
    doubled = sorted(ref for ref, n in in_ledger.items() if n > 1)
    if doubled:
        problems.append(f"{len(doubled)} posts are in the ledger twice, e.g. {doubled[:3]}")
    lost = sorted(seen_posted - set(in_ledger))
    if lost:
        problems.append(f"{len(lost)} posts a client saw succeed are not posted, e.g. {lost[:3]}")
    wrongly = sorted(told_not_posted & set(in_ledger))
    if wrongly:
        problems.append(
            f"{len(wrongly)} posts reported 'nothing was posted' are, e.g. {wrongly[:3]}"
        )
    unseen = sorted(set(in_ledger) - seen_posted - told_not_posted)
    sequences: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for type_code, year, sequence in Voucher.objects.filter(
        organization=organization, status__in=posted_states
    ).values_list("voucher_type__code", "fiscal_year__code", "sequence"):
        sequences[(type_code, year)].append(sequence or 0)
    problems += sequences_gaps(sequences)
    numbers = Counter(
        Voucher.objects.filter(organization=organization, status__in=posted_states).values_list(
            "voucher_type_id", "number"
        )
    )
    if any(n > 1 for n in numbers.values()):
        problems.append("a voucher number is used twice")
    # The ledger equals the posted lines: row counts and amounts per voucher.
    lines: dict[int, tuple[Any, Any]] = {
        pk: (debit, credit)
        for pk, debit, credit in VoucherLine.objects.filter(voucher__in=ours)
        .values("voucher_id")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .values_list("voucher_id", "debit", "credit")
    }
    ledger: dict[int, tuple[Any, Any]] = {
        pk: (debit, credit)
        for pk, debit, credit in LedgerEntry.objects.filter(voucher__in=ours)
        .values("voucher_id")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .values_list("voucher_id", "debit", "credit")
    }
    unequal = [pk for pk in set(lines) | set(ledger) if lines.get(pk) != ledger.get(pk)]
    unbalanced = [pk for pk, (debit, credit) in ledger.items() if debit != credit]
    if unequal:
        problems.append(f"{len(unequal)} vouchers' ledger rows differ from their lines")
    if unbalanced:
        problems.append(f"{len(unbalanced)} vouchers do not balance in the ledger")
    verification = ledger_verify(organization=organization)
    if not verification.ok:
        problems.append(f"verify_ledger: {verification.first_failure}")
    return {
        "posted_in_ledger": sum(in_ledger.values()),
        "seen_posted": len(seen_posted),
        "told_not_posted": len(told_not_posted),
        "posted_unseen": len(unseen),
        "vouchers_verified": verification.vouchers_checked,
        "problems": problems,
    }


# ------------------------------------------------------------------ HTML forms


class FormFields(html.parser.HTMLParser):
    """The named fields of the entry form (the one with a `submission_key`), as a browser sends."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._in_form = False
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._in_form = True
            self.forms.append({})
        if not self._in_form or not self.forms:
            return
        form = self.forms[-1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "image", "file"):
                return
            form[name] = a.get("value", "on" if kind in ("checkbox", "radio") else "")
        elif tag == "select" and name:
            self._select, self._select_first = name, None
            form.setdefault(name, "")
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
                form[self._select] = value
            if "selected" in a:
                form[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            form[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1][self._textarea] += data


def entry_form(page: str) -> dict[str, str]:
    parser = FormFields()
    parser.feed(page)
    for form in parser.forms:
        if "submission_key" in form:
            return form
    raise ValueError("no entry form with a submission key on the page")


# ------------------------------------------------------------------ the simulated accountant


class Session:
    """One browser: its cookies (Secure ones too: the test server is plain http on 127.0.0.1)."""

    def __init__(self, base: str, record: Callable[[Sample], None]) -> None:
        self.base = base
        self.cookies: dict[str, str] = {}
        self.record = record
        self.signed_in = False
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(
        self,
        endpoint: str,
        path: str,
        data: dict[str, str] | None = None,
        *,
        htmx: bool = False,
        ok_statuses: tuple[int, ...] = (200, 302),
    ) -> tuple[int, dict[str, str], str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body)
        if self.cookies:
            request.add_header("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if htmx:
            request.add_header("HX-Request", "true")
        if "csrftoken" in self.cookies and data is not None:
            request.add_header("X-CSRFToken", self.cookies["csrftoken"])
        started = time.monotonic()
        status, headers, text = 0, {}, ""
        try:
            with self.opener.open(request, timeout=30) as response:
                status, headers, text = (
                    response.status,
                    dict(response.headers),
                    response.read().decode(),
                )
                self._keep(response.headers.get_all("Set-Cookie") or [])
        except urllib.error.HTTPError as exc:
            status, headers = exc.code, dict(exc.headers)
            text = exc.read().decode(errors="replace")
            self._keep(exc.headers.get_all("Set-Cookie") or [])
        except (OSError, urllib.error.URLError):
            status = 0
        ms = (time.monotonic() - started) * 1000
        self.record(Sample(endpoint, started, ms, status in ok_statuses, status))
        return status, headers, text

    def _keep(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Outcomes:
    """What the clients were told about their posts, shared by every thread."""

    seen_posted: set[str] = field(default_factory=set)
    told_not_posted: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


POSTED_ANSWER = re.compile(r'data-posted="(yes|no|unknown)"')


class Accountant(threading.Thread):
    def __init__(
        self,
        *,
        base: str,
        username: str,
        prefix: str,
        stop: threading.Event,
        record: Callable[[Sample], None],
        outcomes: Outcomes,
        seed: int,
        sessions: dict[str, Session],
    ) -> None:
        super().__init__(daemon=True, name=username)
        self.session = sessions.get(username) or Session(base, record)
        self.session.record = record
        sessions[username] = self.session
        self.username = username
        self.prefix = prefix
        self.stop = stop
        self.outcomes = outcomes
        self.random = random.Random(seed)
        self.posts = 0

    def think(self) -> bool:
        """Waits 2-6 s; False once the stage is over."""
        return not self.stop.wait(self.random.uniform(*THINK))

    def run(self) -> None:
        # Users arrive over the first seconds of a stage, not all in the same instant.
        if self.stop.wait(self.random.uniform(0, THINK[1])):
            return
        while not self.stop.is_set() and not self.session.signed_in and not self.log_in():
            self.think()
        while not self.stop.is_set():
            self.voucher()

    def log_in(self) -> bool:
        status, _, page = self.session.request("login page", "/login/")
        if status != 200:
            return False
        form = FormFields()
        form.feed(page)
        token = next((f["csrfmiddlewaretoken"] for f in form.forms if "username" in f), "")
        data = {"csrfmiddlewaretoken": token, "username": self.username, "password": PASSWORD}
        status, _, _ = self.session.request("login", "/login/", data)
        self.session.signed_in = status == 302
        return self.session.signed_in

    def voucher(self) -> None:
        status, _, page = self.session.request("entry page", f"/vouchers/{TYPE_CODE}/new/")
        if status != 200:
            self.think()
            return
        try:
            form = entry_form(page)
        except ValueError:
            self.session.record(Sample("entry form parsed", time.monotonic(), 0.0, False, status))
            self.think()
            return
        screen = "config" if "config_version" in form else "legacy"
        self.rename_last(screen)
        self.fill(form, lines=int(form.get("lines-TOTAL_FORMS", "2") or 2))
        while int(form["lines-TOTAL_FORMS"]) < 4:
            if not self.think():
                return
            self.add_line(form, screen)
        if screen == "config":
            if not self.think():
                return
            term = self.random.choice(SEARCH_TERMS)
            query = urllib.parse.urlencode(
                {
                    "q": term,
                    "field": "account",
                    "section": "line",
                    "version": form["config_version"],
                }
            )
            self.session.request(
                "account search (config)",
                f"/vouchers/{TYPE_CODE}/entry/accounts/?{query}",
                htmx=True,
                ok_statuses=(200,),
            )
            self.session.request(
                "totals (config)",
                f"/vouchers/{TYPE_CODE}/entry/totals/",
                form,
                htmx=True,
                ok_statuses=(200,),
            )
        if not self.think():
            return
        self.post(form, screen)

    def rename_last(self, screen: str) -> None:
        """The entry page's sample, named after the screen the router chose."""
        record = self.session.record
        owner = getattr(record, "__self__", None)
        if isinstance(owner, Recorder):
            owner.rename_last(self.session, f"entry page ({screen})")

    def fill(self, form: dict[str, str], *, lines: int) -> None:
        self.posts += 1
        form["reference"] = f"{self.prefix}-{self.username}-{self.posts}"
        form["bank_account"] = BANK
        form["date"] = date.today().isoformat()
        form["narration"] = "Load test payment"
        form["lines-TOTAL_FORMS"] = str(lines)
        for index in range(lines):
            self.fill_line(form, index)

    def fill_line(self, form: dict[str, str], index: int) -> None:
        form[f"lines-{index}-account"] = LINE_ACCOUNTS[index % len(LINE_ACCOUNTS)]
        form[f"lines-{index}-amount"] = f"{self.random.randint(1, 99999) / 100:.2f}"
        form[f"lines-{index}-description"] = f"Line {index + 1}"

    def add_line(self, form: dict[str, str], screen: str) -> None:
        count = int(form["lines-TOTAL_FORMS"])
        if screen == "config":
            status, _, _ = self.session.request(
                "add line (config)",
                f"/vouchers/{TYPE_CODE}/entry/add-line/",
                form,
                htmx=True,
                ok_statuses=(200,),
            )
        else:
            status, _, _ = self.session.request(
                "add line (legacy)",
                f"/vouchers/{TYPE_CODE}/new/",
                {**form, "action": "add_line"},
                ok_statuses=(200,),
            )
        if status == 200:
            form["lines-TOTAL_FORMS"] = str(count + 1)
            self.fill_line(form, count)
        else:
            form["lines-TOTAL_FORMS"] = str(count + 1)  # typed in again, as a user would
            self.fill_line(form, count)

    def post(self, form: dict[str, str], screen: str) -> None:
        reference = form["reference"]
        data = {**form, "action": "post"}
        answers = []
        for _attempt in range(4):
            status, headers, body = self.session.request(
                f"post ({screen})", f"/vouchers/{TYPE_CODE}/new/", data, ok_statuses=(302,)
            )
            if status == 302 and "/edit/" not in headers.get("Location", ""):
                with self.outcomes.lock:
                    self.outcomes.seen_posted.add(reference)
                    self.outcomes.unknown.discard(reference)
                return
            match = POSTED_ANSWER.search(body)
            answers.append(match.group(1) if match else f"status {status}")
            if match and match.group(1) == "yes":
                with self.outcomes.lock:
                    self.outcomes.seen_posted.add(reference)
                return
            if status in (400, 403, 409, 422):
                break  # refused for a reason a retry does not change
            # Nothing posted, or not known, or no answer: send the same form again, as told.
            wait = float(headers.get("Retry-After", "2") or 2)
            if self.stop.wait(min(wait, 5.0)):
                break
        with self.outcomes.lock:
            if answers and all(a == "no" for a in answers):
                self.outcomes.told_not_posted.add(reference)
            else:
                self.outcomes.unknown.add(reference)


class Recorder:
    """Every request's sample, from every thread."""

    def __init__(self) -> None:
        self.samples: list[Sample] = []
        self.lock = threading.Lock()
        self._last: dict[int, int] = {}

    def record(self, sample: Sample) -> None:
        with self.lock:
            self._last[threading.get_ident()] = len(self.samples)
            self.samples.append(sample)

    def rename_last(self, session: Session, endpoint: str) -> None:
        with self.lock:
            index = self._last.get(threading.get_ident())
            if index is not None:
                self.samples[index].endpoint = endpoint


# ------------------------------------------------------------------ the server and its database


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pin(cpu: int) -> Callable[[], None]:
    def apply() -> None:
        cpus = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpu} if cpu in cpus or not cpus else cpus)

    return apply


def server_env(database_url: str, redis_db: int, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        "REDIS_URL": f"{REDIS_BASE}/{redis_db}",
        "DJANGO_CACHE_KEY_PREFIX": f"load{os.getpid()}",
        "GUNICORN_WORKERS": str(WORKERS),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=ROOT, check=True)


def prepare(users: int) -> None:
    """In a process on the run's database: demo books, N accountants, half in the rollout group."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from accounting.models import Membership, Organization, Role
    from rollout.models import RolloutGroup

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_demo_data", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    organization = Organization.objects.get(slug=ORG)
    model = get_user_model()
    hashed = make_password(PASSWORD)  # one hash for all: N hashes would take a minute
    made = model.objects.bulk_create(
        [model(username=f"acct{n:03d}", password=hashed) for n in range(1, users + 1)]
    )
    Membership.objects.bulk_create(
        [Membership(user=u, organization=organization, role=Role.ACCOUNTANT) for u in made]
    )
    group = RolloutGroup.objects.create(organization=organization, name=CONFIG_GROUP)
    group.members.set(made[::2])
    call_command(
        "voucher_rollout",
        "group",
        CONFIG_GROUP,
        org=ORG,
        user="admin",
        stdout=open(os.devnull, "w"),  # noqa: SIM115
    )


def books(prefix: str, outcomes_file: Path) -> None:
    import django

    django.setup()
    told = json.loads(outcomes_file.read_text())
    result = books_check(
        prefix=prefix,
        seen_posted=set(told["seen_posted"]),
        told_not_posted=set(told["told_not_posted"]),
    )
    print(json.dumps(result))


class Server:
    """gunicorn on the run's database, pinned to CPU 1, with its workers' peak RSS sampled."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = int(env["GUNICORN_BIND"].rsplit(":", 1)[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile(prefix="load_gunicorn_", suffix=".log", delete=False)  # noqa: SIM115
        self.process: subprocess.Popen[bytes] | None = None
        self.peak_rss_kb: dict[int, int] = {}
        self._stop = threading.Event()

    def __enter__(self) -> Server:
        command = [
            sys.executable, "-m", "gunicorn", "config.wsgi", "-c", "config/gunicorn.conf.py",
            "--access-logfile", "/dev/null",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, env=self.env, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
            preexec_fn=pin(1),  # affinity before exec, inherited by the workers
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200 and len(self.workers()) >= WORKERS:
                        break
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log.name}")
            time.sleep(0.3)
        else:
            raise RuntimeError(f"gunicorn did not answer /healthz; see {self.log.name}")
        threading.Thread(target=self._sample, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def workers(self) -> list[int]:
        assert self.process is not None
        master = self.process.pid
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry))
        return pids

    def _sample(self) -> None:
        while not self._stop.wait(1.0):
            for pid in self.workers():
                with contextlib.suppress(OSError, ValueError):
                    status = Path(f"/proc/{pid}/status").read_text()
                    hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
                    if hwm:
                        self.peak_rss_kb[pid] = max(self.peak_rss_kb.get(pid, 0), int(hwm.group(1)))


@contextlib.contextmanager
def redis_db() -> Iterator[int]:
    """A Redis database number no other run of this machine's benchmarks uses now, emptied."""
    import redis

    number = 8 + os.getpid() % 8
    client = redis.Redis.from_url(f"{REDIS_BASE}/{number}")
    client.flushdb()
    try:
        yield number
    finally:
        client.flushdb()


@contextlib.contextmanager
def shared_database() -> Iterator[str]:
    """`load_<pid>` on the PostgreSQL server the other benchmarks use, dropped afterwards."""
    import psycopg

    from benchmarks.databases import postgres_admin_url

    admin_url = postgres_admin_url()
    name = f"load_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(admin_url)
    try:
        yield urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Cluster:
    """A throwaway PostgreSQL cluster of this run: the fault run stops and starts it."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="load_pg_"))
        self.data = self.dir / "data"
        self.url = f"postgres://postgres@127.0.0.1:{FAULT_PORT}/load_{os.getpid()}"
        self.admin_url = f"postgres://postgres@127.0.0.1:{FAULT_PORT}/postgres"

    def _as_postgres(self, *command: str) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            command = ("runuser", "-u", "postgres", "--", *command)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    def __enter__(self) -> Cluster:
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"
        )
        self.start()
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "load_{os.getpid()}"')
        return self

    def start(self) -> None:
        options = f"-p {FAULT_PORT} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
            str(self.dir / "log"), "-w", "start",
        )  # fmt: skip

    def stop(self) -> None:
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def terminate_backends(admin_url: str, database: str) -> int:
    """Cuts every connection to `database` but this one: what a failover does to the app."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        ).fetchone()
    return int(row[0]) if row else 0


# ------------------------------------------------------------------ one run


@dataclass
class StageResult:
    users: int
    seconds: float
    samples: list[Sample]
    stats: list[EndpointStats]


def sign_in_all(base: str, users: int, sessions: dict[str, Session]) -> StageResult:
    """The morning: every accountant logs in once, four at a time, before the stages.

    A login hashes the password (PBKDF2, Django's default iterations): a few hundred ms of a
    core each. Everyone logging in within the same seconds of every stage would measure a login
    storm instead of a day's entry work, so the sessions are made here, measured apart, and kept.
    """
    recorder = Recorder()
    stop = threading.Event()
    outcomes = Outcomes()
    started = time.monotonic()
    pending = [f"acct{n:03d}" for n in range(1, users + 1)]
    lock = threading.Lock()

    def signer() -> None:
        while True:
            with lock:
                if not pending:
                    return
                username = pending.pop(0)
            accountant = Accountant(
                base=base, username=username, prefix="", stop=stop, record=recorder.record,
                outcomes=outcomes, seed=0, sessions=sessions,
            )  # fmt: skip
            for _try in range(3):
                if accountant.log_in():
                    break

    threads = [threading.Thread(target=signer, daemon=True) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return StageResult(users, elapsed, recorder.samples, summarize(recorder.samples, elapsed))


def run_stage(
    base: str, users: int, seconds: float, prefix: str, outcomes: Outcomes,
    sessions: dict[str, Session], during: Callable[[float], None] | None = None,
) -> StageResult:  # fmt: skip
    recorder = Recorder()
    stop = threading.Event()
    crowd = [
        Accountant(
            base=base, username=f"acct{n:03d}", prefix=prefix, stop=stop,
            record=recorder.record, outcomes=outcomes, seed=n, sessions=sessions,
        )
        for n in range(1, users + 1)
    ]  # fmt: skip
    started = time.monotonic()
    for accountant in crowd:
        accountant.start()
    if during:
        during(started)
    stop.wait(max(0.0, seconds - (time.monotonic() - started)))
    stop.set()
    for accountant in crowd:
        accountant.join(40)
    elapsed = time.monotonic() - started
    return StageResult(users, elapsed, recorder.samples, summarize(recorder.samples, elapsed))


def login_lines(logins: StageResult) -> list[str]:
    stats = {s.endpoint: s for s in logins.stats}
    login = stats.get("login")
    if not login:
        return ["  logins: none answered"]
    return [
        f"  logins before the stages: {login.count} in {logins.seconds:.1f} s, four at a time,"
        f" p50 {login.p50:.0f} ms, p95 {login.p95:.0f} ms, {login.errors} failed"
    ]


def stage_report(stage: StageResult) -> list[str]:
    errors = sum(s.errors for s in stage.stats)
    total = sum(s.count for s in stage.stats)
    out = [
        f"  {stage.users} accountants, {stage.seconds:.0f} s: {total / stage.seconds:.1f} requests/s,"
        f" {errors} errors of {total}",
        f"    {'endpoint':<28} {'n':>6} {'err':>4} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}",
    ]
    for s in stage.stats:
        out.append(
            f"    {s.endpoint:<28} {s.count:>6} {s.errors:>4} {s.per_second:>7.2f} {s.p50:>8.1f}"
            f" {s.p95:>8.1f} {s.p99:>8.1f}"
        )
    failed = Counter(f"{s.endpoint} {s.status or 'no answer'}" for s in stage.samples if not s.ok)
    if failed:
        out.append("    failed: " + ", ".join(f"{k} ×{n}" for k, n in sorted(failed.items())))
    for step in ("entry page", "post", "add line"):
        ratio = screen_ratio(stage.stats, step)
        if ratio is not None:
            out.append(f"    config/legacy p95 ratio, {step}: {ratio:.2f}")
    return out


def figures_of(stage: StageResult, label: str) -> list[Figure]:
    figures = []
    by_endpoint: dict[str, list[float]] = defaultdict(list)
    for sample in stage.samples:
        by_endpoint[sample.endpoint].append(sample.ms)
    for s in stage.stats:
        figures.append(
            Figure(
                benchmark=f"{label} {stage.users} users: {s.endpoint}",
                unit_count=s.count,
                seconds=stage.seconds,
                samples_ms=by_endpoint[s.endpoint],
                notes=f"p99 {s.p99:.1f} ms, {s.errors} errors",
            )
        )
    return figures


def check_books(env: dict[str, str], prefix: str, outcomes: Outcomes) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(
            {
                "seen_posted": sorted(outcomes.seen_posted),
                "told_not_posted": sorted(outcomes.told_not_posted),
            },
            handle,
        )
    try:
        result = subprocess.run(
            [sys.executable, "-m", "benchmarks.load", "books", prefix, handle.name],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True,
        )  # fmt: skip
    finally:
        os.unlink(handle.name)
    books_result: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    books_result["unknown_to_client"] = len(outcomes.unknown)
    return books_result


def books_lines(result: dict[str, Any]) -> list[str]:
    verdict = (
        "books exact" if not result["problems"] else "BOOKS WRONG: " + "; ".join(result["problems"])
    )
    return [
        f"  books: {result['seen_posted']} posts seen to succeed, {result['posted_in_ledger']} in the"
        f" ledger with the run's references, {result['told_not_posted']} told 'nothing was posted',"
        f" {result['unknown_to_client']} never answered (of which posted: {result['posted_unseen']}),"
        f" {result['vouchers_verified']} vouchers verified -> {verdict}"
    ]


def rss_lines(server: Server) -> list[str]:
    if not server.peak_rss_kb:
        return ["  peak RSS per worker: not sampled"]
    peaks = sorted(server.peak_rss_kb.values())
    return [
        f"  peak RSS per worker ({len(peaks)} worker processes seen): max {peaks[-1] / 1024:.0f} MB,"
        f" median {statistics.median(peaks) / 1024:.0f} MB"
    ]


def serve_and_prepare(database_url: str, redis: int, users: int) -> dict[str, str]:
    env = server_env(database_url, redis, free_port())
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    subprocess.run(
        [sys.executable, "-m", "benchmarks.load", "prepare", str(users)],
        env=env,
        cwd=ROOT,
        check=True,
    )
    return env


def load_test(quick: bool) -> tuple[list[str], list[Figure], bool]:
    os.sched_setaffinity(0, {0} if 0 in os.sched_getaffinity(0) else os.sched_getaffinity(0))
    stages = (10, 20) if quick else STAGES
    seconds = 20.0 if quick else STAGE_SECONDS
    report = [
        f"L load test: gunicorn {WORKERS} sync workers on CPU 1, clients on CPU 0, PostgreSQL"
    ]
    figures: list[Figure] = []
    outcomes = Outcomes()
    prefix = f"LT{os.getpid()}"
    with shared_database() as url, redis_db() as redis:
        env = serve_and_prepare(url, redis, max(stages))
        with Server(env) as server:
            sessions: dict[str, Session] = {}
            print(f"L: {max(stages)} accountants log in ...", file=sys.stderr, flush=True)
            logins = sign_in_all(server.base, max(stages), sessions)
            report += login_lines(logins)
            for users in stages:
                print(
                    f"L: {users} accountants for {seconds:.0f} s ...", file=sys.stderr, flush=True
                )
                stage = run_stage(
                    server.base, users, seconds, f"{prefix}s{users}", outcomes, sessions
                )
                report += stage_report(stage)
                figures += figures_of(stage, "L")
            report += rss_lines(server)
        result = check_books(env, prefix, outcomes)
        report += books_lines(result)
    return report, figures, not result["problems"]


def fault_run(quick: bool) -> tuple[list[str], list[Figure], bool]:
    os.sched_setaffinity(0, {0} if 0 in os.sched_getaffinity(0) else os.sched_getaffinity(0))
    users = 20 if quick else 30
    outcomes = Outcomes()
    prefix = f"LF{os.getpid()}"
    report = [f"LF fault run: {users} accountants, own PostgreSQL cluster on port {FAULT_PORT}"]
    events: dict[str, float] = {}
    cut: list[int] = []
    with Cluster() as cluster, redis_db() as redis:
        env = serve_and_prepare(cluster.url, redis, users)
        with Server(env) as server:

            def faults(started: float) -> None:
                def at(offset: float) -> None:
                    time.sleep(max(0.0, started + offset - time.monotonic()))

                at(15)
                victim = server.workers()[0]
                events["worker killed"] = time.monotonic()
                os.kill(victim, signal.SIGKILL)
                at(40)
                events["connections cut"] = time.monotonic()
                cut.append(terminate_backends(cluster.admin_url, f"load_{os.getpid()}"))
                at(65)
                events["database stopped"] = time.monotonic()
                cluster.stop()
                at(72)
                cluster.start()
                events["database back"] = time.monotonic()

            print("LF: the fault run, about 100 s ...", file=sys.stderr, flush=True)
            sessions: dict[str, Session] = {}
            report += login_lines(sign_in_all(server.base, users, sessions))
            stage = run_stage(server.base, users, 100.0, prefix, outcomes, sessions, during=faults)
            end = max((s.started for s in stage.samples), default=time.monotonic()) + 1
            first = min((s.started for s in stage.samples), default=0.0)
            windows = [
                ("before any fault", first, events["worker killed"]),
                ("after the worker kill", events["worker killed"], events["connections cut"]),
                (
                    "after the connections cut",
                    events["connections cut"],
                    events["database stopped"],
                ),
                ("while the database is down", events["database stopped"], events["database back"]),
                ("after the database is back", events["database back"], end),
            ]
            counted = failures_by_window(stage.samples, windows)
            report += stage_report(stage)
            report.append(f"  connections cut: {cut[0] if cut else 0} backends terminated")
            for name, (failed, total) in counted.items():
                report.append(f"  {name:<30} {failed:>4} failed of {total:>5} requests")
            report += rss_lines(server)
        result = check_books(env, prefix, outcomes)
        report += books_lines(result)
    figures = [
        Figure(
            benchmark=f"LF {name}",
            unit_count=total,
            seconds=0.0,
            notes=f"{failed} failed of {total}",
        )
        for name, (failed, total) in counted.items()
    ]
    return report, figures, not result["problems"]


def _registered(
    run: Callable[[bool], tuple[list[str], list[Figure], bool]],
) -> Callable[[BenchContext], list[Figure]]:
    def bench(ctx: BenchContext) -> list[Figure]:
        # One server run per `make bench`: on PostgreSQL, in the first of the fresh-database runs.
        if ctx.vendor != "postgresql" or os.environ.get("BENCH_RUN", "1") != "1":
            return []
        report, figures, exact = run(ctx.quick)
        print("\n".join(report), file=sys.stderr, flush=True)
        verdict = "books exact" if exact else "BOOKS WRONG (see the report above)"
        return [
            *figures,
            Figure(
                benchmark=f"{figures[0].benchmark[:2]} books",
                unit_count=0,
                seconds=0.0,
                notes=verdict,
            ),
        ]

    return bench


benchmark("L load test, 10/50/100 accountants", group="load")(_registered(load_test))
benchmark("LF fault run", group="load")(_registered(fault_run))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load")
    parser.add_argument("step", choices=["prepare", "books", "L", "LF"])
    parser.add_argument("args", nargs="*")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if args.step == "prepare":
        prepare(int(args.args[0]))
    elif args.step == "books":
        books(args.args[0], Path(args.args[1]))
    else:
        report, _, exact = (load_test if args.step == "L" else fault_run)(args.quick)
        print("\n".join(report))
        return 0 if exact else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
