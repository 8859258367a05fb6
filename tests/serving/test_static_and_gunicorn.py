"""Production serving: static files by hashed name with a year's cache lifetime (WhiteNoise), and
the site under gunicorn as `make serve` starts it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
YEAR = 365 * 24 * 3600


@pytest.fixture
def collected(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    return settings.STATIC_ROOT


def test_a_static_file_is_served_by_its_hashed_name_with_a_far_future_header(db, client, collected):
    hashed = sorted(p.name for p in (collected / "vendor").glob("htmx.min.*.js"))
    assert hashed, "collectstatic wrote no hashed copy of htmx"
    response = client.get(f"/static/vendor/{hashed[0]}")
    assert response.status_code == 200
    max_age = re.search(r"max-age=(\d+)", response["Cache-Control"])
    assert max_age and int(max_age.group(1)) >= YEAR
    assert "immutable" in response["Cache-Control"]
    # The unhashed name is still served, but only briefly cached: it changes with each release.
    plain = client.get("/static/vendor/htmx.min.js")
    assert plain.status_code == 200
    assert int(re.search(r"max-age=(\d+)", plain["Cache-Control"]).group(1)) < YEAR


def test_pages_name_static_files_by_their_hashed_names(db, client, collected):
    body = client.get("/login/").content.decode()
    assert re.search(r'/static/[\w/.-]+\.[0-9a-f]{12}\.(css|js)"', body), body[:1000]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_make_serves_command_line_serves_healthz_and_hashed_static_files(tmp_path):
    """The commands `make serve` runs, with its environment, against a fresh SQLite file."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_DEBUG": "",
        "DJANGO_SECRET_KEY": "s" * 64,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
    }
    env.pop("PYTEST_VERSION", None)  # the server runs as production does
    env.pop("REDIS_URL", None)
    bin_dir = Path(sys.executable).parent
    for step in (["collectstatic", "--noinput", "--verbosity", "0"], ["migrate", "--noinput"]):
        subprocess.run([sys.executable, "manage.py", *step], cwd=ROOT, env=env, check=True)
    command = ["config.wsgi", "-c", "config/gunicorn.conf.py", "-w", "1", "-b", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        [bin_dir / "gunicorn", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                health = urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer /healthz")
        assert (health.status, health.read()) == (200, b"ok\n")
        login = urllib.request.urlopen(f"{base}/login/", timeout=5).read().decode()
        css = re.search(r'(/static/[\w/.-]+\.[0-9a-f]{12}\.css)"', login)
        assert css, login[:1000]
        static = urllib.request.urlopen(f"{base}{css.group(1)}", timeout=5)
        assert static.status == 200
        assert "immutable" in static.headers["Cache-Control"]
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    assert '"GET /healthz HTTP/1.1" 200' in output  # the access log
