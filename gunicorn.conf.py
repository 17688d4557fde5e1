"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "backoffice:create_app()"`."""

import gc
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = 60
# The access log names the path only: query strings and referrers can carry patient search terms.
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'
# The proxy in front (nginx) sets X-Forwarded-*; the app trusts them when TRUSTED_PROXIES=1.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker: object) -> None:
    """The app's modules, templates and metadata live as long as the worker: leave them out of
    every garbage collection, so that a page that allocates much does not rescan them."""
    gc.collect()
    gc.freeze()
