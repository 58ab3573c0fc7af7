"""gunicorn settings for the portal: several pre-fork workers on one SQLite file.

The master never opens an engine (a handle must not cross fork()): demo data is loaded by a
child process before the workers start, each worker opens its own engine on first use after
the fork, and the scheduler is run by a timer thread in the master that starts
`dist/bin/billingctl scheduler-run` (a separate process) every PORTAL_SCHEDULER_SECONDS."""

import os
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PORTAL_WORKERS", "3"))
threads = int(os.environ.get("PORTAL_THREADS", "2"))
chdir = HERE
wsgi_app = "wsgi:app"
accesslog = os.environ.get("PORTAL_ACCESS_LOG") or None
preload_app = False  # the app (and any engine) is created in each worker, after the fork
# gunicorn 23+ opens a control socket in ~/.gunicorn by default; several portals (the tests')
# on one machine would share it. Older versions ignore the unknown setting.
control_socket_disable = True


def db_path():
    return os.path.abspath(os.environ.setdefault("PORTAL_DB", os.path.join(TOP, "build", "portal", "portal.sqlite")))


def on_starting(server):
    os.makedirs(os.path.dirname(db_path()), exist_ok=True)
    subprocess.run([sys.executable, "-m", "portal.demo", db_path()], cwd=HERE, check=True)
    # The session key every worker shares (unless PORTAL_SECRET_KEY is set).
    sys.path.insert(0, HERE)
    from portal import secret_key
    secret_key(db_path())


def post_fork(server, worker):
    from portal import backend
    backend.after_fork()


def when_ready(server):
    seconds = int(os.environ.get("PORTAL_SCHEDULER_SECONDS", "60"))
    if seconds <= 0:
        return
    billingctl = os.environ.get("PORTAL_BILLINGCTL", os.path.join(TOP, "dist", "bin", "billingctl"))

    def loop():
        stop = threading.Event()
        while not stop.wait(seconds):
            command = [billingctl, "--db", db_path(), "--actor", "portal-timer", "scheduler-run"]
            if os.environ.get("PORTAL_DEMO", "1") == "1":
                sys.path.insert(0, HERE)
                from portal import backend
                backend.configure(db_path(), demo=True)
                command[1:1] = ["--clock", "manual", "--now", str(backend.demo_now())]
            result = subprocess.run(command, capture_output=True, text=True)
            if result.returncode != 0:
                server.log.warning("scheduler-run failed (%s): %s", result.returncode, result.stderr.strip())

    threading.Thread(target=loop, name="scheduler-timer", daemon=True).start()
