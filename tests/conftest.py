"""Shared fixtures for cross-app and browser tests: the demo city, Chromium, logged-in pages.

Browser tests drive Debian's ``/usr/bin/chromium`` through Playwright's sync API (never
``playwright install``) against pytest-django's ``live_server``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def fast_password_hasher(settings: Any) -> None:
    """MD5 password hashing: the demo users are created in every test (never in production)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_city(transactional_db: Any, fast_password_hasher: None) -> Any:
    """The demo city of ``qiantou demo_load`` (units, three plans, one user per role), committed so
    the live server's thread sees it. Returns the load summary (``logins`` lists the users)."""
    from qiantou.demo.loader import demo_load

    return demo_load()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Factory: ``new_page(viewport=DESKTOP)`` → a fresh page in its own context (own cookies)."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(viewport=viewport or DESKTOP, locale="zh-CN")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        # Let requests the page started on its own (htmx hx-trigger="load" partials) finish first: the
        # live server would otherwise still be reading while the test database is flushed.
        for open_page in context.pages:
            try:
                open_page.wait_for_load_state("networkidle", timeout=15_000)
            except Exception:  # a page that never settles must not hide the test's own result
                pass
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    """A desktop-sized (1280×800) page, not logged in."""
    return new_page()


@pytest.fixture
def logged_in_page(live_server: Any, new_page: Callable[..., Any]) -> Callable[..., Any]:
    """Factory: ``logged_in_page(username, password, viewport=DESKTOP)`` → a page on the home page,
    logged in through the login form."""

    def login(username: str, password: str, viewport: dict[str, int] | None = None) -> Any:
        pg = new_page(viewport)
        pg.goto(f"{live_server.url}/login/")
        pg.fill("#id_username", username)
        pg.fill("#id_password", password)
        pg.click("button[type=submit].btn-primary")
        pg.wait_for_url(f"{live_server.url}/")
        return pg

    return login


@pytest.fixture
def artifacts() -> Path:
    """``test-artifacts/`` (gitignored) for screenshots."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
