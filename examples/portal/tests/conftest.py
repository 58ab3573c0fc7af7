"""The portal under test: gunicorn with several pre-fork workers on a temporary SQLite file
and a free local port, driven by headless Debian chromium through selenium. Debian's
chromedriver is named explicitly (and SE_OFFLINE set) so selenium never downloads a driver.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PORTAL = os.path.dirname(HERE)
TOP = os.path.normpath(os.path.join(PORTAL, "..", ".."))
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
OPERATOR_PASSWORD = "Operator-Test-1"
SCREENSHOTS = os.environ.get("PORTAL_SCREENSHOTS", os.path.join(TOP, "build", "portal-screenshots"))

sys.path.insert(0, PORTAL)  # portal.backend.DEMO_START and the demo password


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Portal:
    def __init__(self, url: str, db: str, process: subprocess.Popen) -> None:
        self.url, self.db, self.process = url, db, process

    def engine(self):
        """The host's other systems on the same file (another process, like billingctl): an
        engine on the demo's manual clock, for setting up and checking what pages show."""
        from billing import Engine
        from portal import backend
        backend.configure(self.db, demo=True)
        return Engine(self.db, clock="manual", now=backend.demo_now())


@pytest.fixture(scope="session")
def portal(tmp_path_factory):
    # This run's screenshots only.
    if os.path.isdir(SCREENSHOTS):
        for name in os.listdir(SCREENSHOTS):
            if name.endswith(".png"):
                os.remove(os.path.join(SCREENSHOTS, name))
    directory = tmp_path_factory.mktemp("portal")
    db = str(directory / "portal.sqlite")
    port = free_port()
    env = dict(os.environ, PORTAL_DB=db, PORTAL_DEMO="1", PORTAL_FAST_HASHING="1",
               PORTAL_SECRET_KEY=secrets.token_hex(16), PORTAL_OPERATOR_PASSWORD=OPERATOR_PASSWORD,
               PORTAL_BIND=f"127.0.0.1:{port}", PORTAL_WORKERS="3", PORTAL_THREADS="2",
               PORTAL_SCHEDULER_SECONDS="5")
    log = open(directory / "gunicorn.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", os.path.join(PORTAL, "gunicorn.conf.py")],
                               cwd=PORTAL, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "/login", timeout=2).read()
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail("gunicorn exited: " + open(directory / "gunicorn.log").read()[-3000:])
            time.sleep(0.1)
    else:
        process.terminate()
        pytest.fail("the portal did not start: " + open(directory / "gunicorn.log").read()[-3000:])
    yield Portal(url, db, process)
    process.terminate()
    process.wait(timeout=30)
    log.close()
    text = open(directory / "gunicorn.log").read()
    assert "Traceback" not in text, text[-5000:]


@pytest.fixture(scope="session")
def driver():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("the browser tests need Debian's chromium and chromium-driver (scripts/install-deps.sh)")
    os.environ["SE_OFFLINE"] = "true"  # selenium-manager must never download anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1000", "--lang=zh-CN"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.implicitly_wait(0)
    yield browser
    browser.quit()


@pytest.fixture
def browser(driver, portal):
    """A fresh session (no cookies) for each test."""
    driver.get(portal.url + "/login")
    driver.delete_all_cookies()
    return driver
