"""The web page in a real browser: Debian's headless Chromium, driven through
Playwright's Python API, against the whole local stack that ``make up`` serves.

The browser is the distribution's package (``scripts/install-chromium``), never
one Playwright downloads: ``launch(executable_path=...)`` speaks the DevTools
protocol to any recent Chromium. Without it the suite is skipped only on a
machine where it cannot be installed (not root); as root (CI) a missing browser
is installed, and a failed install is a failure.

The stack is started once, in this process, for the browser tests only: it is
stopped after the last of them, and ``voxlocal.up.start`` puts the process's
environment back, so the tests that run after them see nothing of it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import ViewportSize

from voxlocal import postgres

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright

    from voxlocal.up import Running

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCREENS = ROOT / "out" / "screens"
INSTALL_SCRIPT = ROOT / "scripts" / "install-chromium"
BROWSER_DB = "voxcliente_browser"

# What the browser is launched with: headless, no sandbox (CI runs as root,
# where Chromium's sandbox refuses to start), and nothing that reaches the
# network on its own (QUIC, background updates, sync): the tests talk only to
# loopback.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A large screen for the flow; the layout tests set a phone's width themselves.
DESKTOP = ViewportSize(width=1280, height=900)


def _find_chromium() -> str | None:
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None
    )


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    """Debian's chromium: installed here when missing and running as root."""
    found = _find_chromium()
    if found:
        return found
    if os.geteuid() != 0:
        pytest.skip(
            "Chromium is not installed and this user cannot install it: run "
            "`sudo apt-get install -y --no-install-recommends chromium` "
            "(or scripts/install-chromium as root) to run the browser tests"
        )
    done = subprocess.run(  # noqa: S603 - our own script, no shell
        [str(INSTALL_SCRIPT)], capture_output=True, text=True, check=False
    )
    found = _find_chromium()
    if not found:
        pytest.fail(
            "Chromium is missing and scripts/install-chromium could not install it:\n"
            + done.stdout
            + done.stderr
        )
    return found


# --- the `make up` stack -------------------------------------------------------------


_OPEN_STACKS: list[contextlib.ExitStack] = []


def _stop_stacks() -> None:
    while _OPEN_STACKS:
        _OPEN_STACKS.pop().close()


@pytest.fixture(scope="session")
def up(chromium_executable: str, pg_server: str) -> Iterator[Running]:
    """``make up`` in this process, on ephemeral ports, with a database of its own
    on the session's PostgreSQL (the other tests empty theirs between tests)."""
    from voxcliente.settings import reset_settings
    from voxlocal.up import start

    database_url = postgres.recreate_database(pg_server, BROWSER_DB)
    stack = contextlib.ExitStack()
    _OPEN_STACKS.append(stack)
    try:
        running = start(stack, port=0, database_url=database_url, echo=False)
    except BaseException:
        _stop_stacks()
        raise
    yield running
    _stop_stacks()
    reset_settings()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    """Stop the stack after the last browser test, not at the end of the whole
    session: its pollers and its environment must not outlive these tests."""
    result = yield
    if nextitem is None or HERE not in Path(nextitem.path).parents:
        _stop_stacks()
        from voxcliente.settings import reset_settings

        reset_settings()
    return result


@pytest.fixture(autouse=True)
def _aws_test_environment() -> None:
    """Replaces the suite's per-test AWS environment for these tests: the stack
    set its own (moto's endpoint, local credentials) for the functions it runs
    in this process, and a test must not take it away from under them."""


# --- the browser ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright, chromium_executable: str) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=chromium_executable, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@dataclass
class PageErrors:
    """What went wrong inside the page: uncaught exceptions and console errors."""

    uncaught: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "<status> <method> <url>", 4xx and 5xx


@pytest.fixture
def context(browser: Browser, up: Running) -> Iterator[BrowserContext]:
    """A fresh profile (no storage, no cookies) on the stack's origin, in a
    Spanish-speaking browser (the language test makes an English one)."""
    ctx = browser.new_context(
        base_url=up.base_url, viewport=DESKTOP, locale="es-ES", accept_downloads=True
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(context: BrowserContext, page_errors: PageErrors) -> Iterator[Page]:
    opened = context.new_page()
    opened.on("pageerror", lambda error: page_errors.uncaught.append(str(error)))
    opened.on(
        "console",
        lambda message: (
            page_errors.console.append(f"{message.text} ({message.location.get('url', '')})")
            if message.type == "error"
            else None
        ),
    )
    opened.on(
        "response",
        lambda response: (
            page_errors.refused.append(
                f"{response.status} {response.request.method} {response.url}"
            )
            if response.status >= 400
            else None
        ),
    )
    yield opened
    seen = page_errors.uncaught + page_errors.console + page_errors.refused
    if seen:
        # Shown with a failure's report (pytest keeps a passing test's output to itself).
        print("in the page:\n  " + "\n  ".join(seen), file=sys.stderr)


# --- screenshots ---------------------------------------------------------------------


class Screens:
    """out/screens/NN-step.png, numbered in the order the steps were taken."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[Path] = []

    def _next(self, step: str) -> Path:
        name = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        self.taken.append(path)
        return path

    def shoot(self, page: Page, step: str, *, full_page: bool = True) -> Path:
        """The whole page (``full_page``) or what the window shows."""
        path = self._next(step)
        page.screenshot(path=str(path), full_page=full_page)
        return path

    def shoot_part(self, part: Locator, step: str) -> Path:
        """One part of the page, such as a section."""
        path = self._next(step)
        part.screenshot(path=str(path))
        return path


@pytest.fixture(scope="session")
def screens() -> Screens:
    """A clean out/screens/ for this run (what an earlier run left is removed)."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    for old in SCREENS.glob("*.png"):
        old.unlink()
    return Screens(SCREENS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test (``-m browser`` selects them)."""
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
