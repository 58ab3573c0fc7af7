"""Small helpers for the browser tests (pytest puts this directory on sys.path)."""

from __future__ import annotations

import os
import urllib.request

from conftest import OPERATOR_PASSWORD, SCREENSHOTS
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

_shots = {"n": 0}


def shot(driver, name: str) -> None:
    """Saves the page as build/portal-screenshots/NN-name.png, numbered in the order taken."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    _shots["n"] += 1
    driver.save_screenshot(os.path.join(SCREENSHOTS, f"{_shots['n']:02d}-{name}.png"))


def go(driver, portal, path: str) -> None:
    driver.get(portal.url + path)


def click(driver, element) -> None:
    """Clicks a button or link that loads a page, and waits for the new page."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def left(_: object) -> bool:
        try:
            page.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException:
            # chromedriver sometimes answers a node of the page being replaced this way
            # ("Node with given id does not belong to the document"): it is gone as well.
            return True

    WebDriverWait(driver, 20).until(left)
    WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")


def press(driver, element_id: str) -> None:
    click(driver, by_id(driver, element_id))


def by_id(driver, element_id: str):
    return driver.find_element(By.ID, element_id)


def css(driver, selector: str):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def type_into(driver, element_id: str, text: str) -> None:
    field = by_id(driver, element_id)
    field.clear()
    field.send_keys(text)


def message(driver) -> str:
    found = css(driver, "#message")
    return found[0].text if found else ""


def body(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def login(driver, portal, identifier: str, password: str) -> None:
    go(driver, portal, "/login")
    type_into(driver, "identifier", identifier)
    type_into(driver, "password", password)
    press(driver, "login-submit")


def logout(driver) -> None:
    press(driver, "logout")


def operator_login(driver, portal) -> None:
    go(driver, portal, "/operator/login")
    type_into(driver, "operator-user", "operator")
    type_into(driver, "operator-password", OPERATOR_PASSWORD)
    press(driver, "operator-login")
    assert by_id(driver, "applications")


def fetch(driver, url: str) -> tuple:
    """GETs a URL with the browser's cookies (for a file download): (status, bytes)."""
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    request = urllib.request.Request(url, headers={"Cookie": cookies})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def yuan_text(fen: int) -> str:
    whole, cents = divmod(fen, 100)
    return f"¥{whole:,}.{cents:02d}"
