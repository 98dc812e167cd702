"""gunicorn settings. `make run` uses one worker with threads (the in-process cache is per
process); production on Redis can raise WORKERS freely. Override with GUNICORN_* or -c."""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WORKERS", "1"))
threads = int(os.environ.get("THREADS", "8"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = int(os.environ.get("MAX_REQUESTS", "0"))
max_requests_jitter = 100
accesslog = "-"
# The same access lines as gunicorn writes, for less CPU (see lti_tool/access_log.py, bench/floor.py).
logger_class = "lti_tool.access_log.AccessLogger"
# %(U)s is the path without the query string: launch tokens travel as ?lt= and must not be logged.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(D)sus rid=%({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket lives at one path per user: several instances on one machine would
# fight over it, and nothing here uses it.
control_socket_disable = True


def on_starting(server):
    """Refuse to serve when the database schema is behind (or ahead of) the code.

    The check runs in a forked child: it loads Alembic, which the workers (forked from this
    process) never need and would otherwise each carry in memory."""
    child = os.fork()
    if child == 0:
        code = 1
        try:
            code = _schema_check(server)
        except Exception:  # e.g. the database is unreachable: say why, then refuse
            server.log.exception("refusing to start: the schema check failed")
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("refusing to start: the database schema does not match the code (see the log above)")


def _schema_check(server) -> int:
    from lti_tool import create_app, schema

    app = create_app()
    with app.app_context():
        problem = schema.problem()
    if problem:
        server.log.error("refusing to start: %s", problem)
        return 1
    return 0


def when_ready(server):
    """Report broken course pages once at startup (learners then get a clear 503, never a 500)."""
    from lti_tool import content, create_app

    folder = create_app().config["CONTENT_DIR"]
    problems = content.check_content(folder)
    for problem in problems:
        server.log.error("content: %s", problem)
    if problems:
        server.log.error("content: %d problem(s) in %s; see `lti-tool content check`", len(problems), folder)


def post_worker_init(worker):
    """With GRADE_WORKER=inline (the default), each app process also sends queued grades."""
    app = worker.wsgi
    if getattr(app, "config", {}).get("GRADE_WORKER") == "inline":
        from lti_tool.grade_worker import start_inline

        worker.grade_worker = start_inline(app)
