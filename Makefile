# Two commands on a fresh machine: `make run` and `make test`. Everything else is built on them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
MANAGE := $(PY) manage.py
STAMP := $(VENV)/.installed
SQLITE_DB := var/db.sqlite3

# Django 6 needs Python 3.12 or newer. $PYTHON wins; otherwise the newest >= 3.12 on PATH or under pyenv.
find_python = $(shell PYTHON="$(PYTHON)" bash scripts/find-python.sh)

.PHONY: help
help:
	@echo "make run      set up (venv, install, migrate, seed, demo data) and serve on http://127.0.0.1:8000"
	@echo "make test     set up and run the suite with coverage (SQLite; DATABASE_URL for PostgreSQL)"
	@echo "make test-browser  the browser tests (Playwright driving Debian's chromium) and other slow ones"
	@echo "make lint     ruff, formatting, mypy, import directions, bandit, migrations check, deploy check"
	@echo "make bench    posting and entry-screen benchmarks (SQLite and PostgreSQL)"
	@echo "make serve    production settings under gunicorn on http://127.0.0.1:8000 (DEBUG off)"
	@echo "make docs     the manual: screenshots, videos and quick reference from the real screens, then the site in var/site"

$(STAMP): pyproject.toml scripts/find-python.sh
	@set -e; py="$(find_python)"; \
	if [ -z "$$py" ]; then echo "error: Python 3.12 or newer is required (Django 6). Install it or set PYTHON=/path/to/python3.12" >&2; exit 1; fi; \
	if [ ! -x "$(PY)" ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		rm -rf $(VENV); echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	$(BIN)/pip install --quiet --disable-pip-version-check ".[dev]"
	@rm -rf build *.egg-info
	@touch $(STAMP)

.PHONY: install
install: $(STAMP)

static/vendor/htmx.min.js:
	@test -f $@ || { echo "static/vendor/htmx.min.js is missing" >&2; exit 1; }

.PHONY: setup
setup: install
	@mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) load_demo_data

.PHONY: run
run: export DJANGO_DEBUG = 1
run: setup
	$(MANAGE) runserver 127.0.0.1:8000

# Production settings on this machine: DEBUG off, a fresh secret key, static files collected and
# served by WhiteNoise, gunicorn in front. Plain http on 127.0.0.1 only, so no HTTPS redirect (a real
# deployment keeps it, docs/DEPLOYMENT.md "Serving"); browsers send the Secure cookies to
# http://127.0.0.1 and localhost all the same. `make run` first if the database has no demo data.
SERVE_ENV = DJANGO_DEBUG= DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost DJANGO_SECURE_SSL_REDIRECT=0 \
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')}"
GUNICORN_WORKERS ?= 3

.PHONY: serve
serve: install
	@mkdir -p var
	$(SERVE_ENV) $(MANAGE) collectstatic --noinput --verbosity 0
	$(SERVE_ENV) $(MANAGE) migrate --noinput
	$(SERVE_ENV) $(BIN)/gunicorn config.wsgi -c config/gunicorn.conf.py -w $(GUNICORN_WORKERS) -b 127.0.0.1:8000

.PHONY: test
test: export DJANGO_DEBUG ?=
test: install
	@mkdir -p var
	$(BIN)/pytest -n auto -m "not browser and not slow and not docs" --cov --cov-report=term --cov-report=xml:var/coverage.xml $(PYTEST_ARGS)

# The browser tests (Debian's chromium through Playwright) and the tests that start servers or
# processes of their own: their own leg, as CI runs them.
.PHONY: test-browser
test-browser: install
	@mkdir -p var
	$(BIN)/pytest -n auto -m "(browser or slow) and not docs" $(PYTEST_ARGS)

.PHONY: test-postgres
test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(BIN)/pytest -n auto -m "not browser and not docs" $(PYTEST_ARGS)

# The documentation site. The browser tests marked `docs` drive the real screens (Debian's chromium)
# and write docs/media/: screenshots, the videos (Debian's ffmpeg makes WebM and MP4 with chapters)
# and the one-page quick reference PDF; none of it is committed. Then MkDocs builds var/site with
# --strict, so a page that references a file the tests did not make fails the build.
.PHONY: docs
docs: export DJANGO_DEBUG ?=
docs: install
	@mkdir -p var
	rm -rf docs/media
	$(BIN)/pytest -m docs tests/e2e $(PYTEST_ARGS)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

.PHONY: lint
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_DEBUG=1 $(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/bandit -q -r accounting voucher_config legacy_entry rollout support config -x '*/migrations/*' --severity-level high
	DJANGO_DEBUG=1 $(MANAGE) makemigrations --check --dry-run
	DJANGO_DEBUG= DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))')" \
		DJANGO_ALLOWED_HOSTS=ledger.example.com $(MANAGE) check --deploy --fail-level WARNING

.PHONY: format
format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: bench
bench: install
	$(PY) -m benchmarks.run $(BENCH_ARGS)

.PHONY: clean
clean:
	rm -rf $(VENV) var build *.egg-info
