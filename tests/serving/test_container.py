"""The container image runs as an unprivileged user and tells its orchestrator when it is healthy."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_image_runs_as_a_non_root_user_with_a_healthcheck_on_healthz():
    steps = instructions()
    assert steps[0] == ("FROM", "python:3.13-slim")
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    user_at = max(i for i, (op, _) in enumerate(steps) if op == "USER")
    cmd_at = max(i for i, (op, _) in enumerate(steps) if op == "CMD")
    assert user_at < cmd_at
    health = [arg for op, arg in steps if op == "HEALTHCHECK"]
    assert health and "/healthz" in health[0]
    assert "gunicorn" in dict(steps)["CMD"]
    runs = " ".join(arg for op, arg in steps if op == "RUN")
    assert "pip install ." in runs
    assert "collectstatic" in runs


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "var", ".env", "*.sqlite3"} <= set(ignored)
