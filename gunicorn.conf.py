"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py "backoffice:create_app()"`."""

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
