# The site under gunicorn, static files collected at build and served by WhiteNoise.
# Configure with the environment (docs/DEPLOYMENT.md): DATABASE_URL, REDIS_URL, DJANGO_SECRET_KEY,
# DJANGO_ALLOWED_HOSTS, DJANGO_CSRF_TRUSTED_ORIGINS, ... Migrations run as a separate one-off
# command (`docker run IMAGE python manage.py migrate`), never at every container start.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GUNICORN_BIND=0.0.0.0:8000 \
    DJANGO_STATIC_ROOT=/app/staticfiles

WORKDIR /app

# The pinned dependencies first, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN pip install .

COPY . .

# collectstatic needs settings but no database and no real secret.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput --verbosity 0

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin ledger \
    && mkdir -p /app/var && chown ledger /app/var
USER ledger

EXPOSE 8000

# A plain-http probe from inside the container; /healthz needs no Host header match and no HTTPS.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]

CMD ["gunicorn", "config.wsgi", "-c", "config/gunicorn.conf.py"]
