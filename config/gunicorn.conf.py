"""gunicorn settings for `make serve`, the systemd unit and the container (docs/DEPLOYMENT.md).

Workers: sync workers, one request each at a time. (2 × cores) + 1 keeps the CPUs busy while
some workers wait on PostgreSQL; each worker holds the whole site (~80–120 MB), so on a small
machine memory, not CPUs, sets the ceiling. GUNICORN_WORKERS overrides the count.
Reload without dropping a request: `kill -HUP <master pid>` (`systemctl reload`) starts new
workers on the new code and lets the old ones finish what they are serving.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# A request taking longer than this is killed and its worker replaced: a posting is milliseconds,
# the largest report a few seconds.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Time a worker has to finish its request after HUP or TERM before it is killed.
graceful_timeout = 30
# Behind nginx or a load balancer: keep the proxy's connection open between requests.
keepalive = 5
# Workers are replaced after this many requests (with jitter, so not all at once): a slow leak
# in a library cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# One line per request on stdout, with the time taken (µs), for journald or the container log.
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# The client's address comes from X-Forwarded-For only from the proxy on this machine.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
