"""The page as different people meet it: on a 360 px phone, with the keyboard
only, through a screen reader's accessible names, in Spanish first and in
English on request."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from playwright.sync_api import ViewportSize, expect

from browser.steps import ROOT, SAMPLE, wait_until_emailed

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from browser.conftest import Screens
    from voxlocal.up import Running

ES: dict[str, str] = json.loads((ROOT / "web" / "i18n" / "es.json").read_text(encoding="utf-8"))
EN: dict[str, str] = json.loads((ROOT / "web" / "i18n" / "en.json").read_text(encoding="utf-8"))
PHONE = ViewportSize(width=360, height=740)
# The roles a person types into, picks from or presses: each needs a name that a
# screen reader reads out (the accessibility tree Chromium itself computes).
CONTROL_ROLES = {
    "textbox",
    "searchbox",
    "combobox",
    "listbox",
    "spinbutton",
    "checkbox",
    "radio",
    "slider",
    "switch",
    "button",
    "date",
    "DateTime",
    "InputTime",
}


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scroll)."""
    width: int = page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )
    return width


def unnamed_controls(page: Page) -> list[str]:
    """The visible controls without an accessible name, as Chromium computes names."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("Accessibility.enable")
        tree: dict[str, Any] = cdp.send("Accessibility.getFullAXTree")
    finally:
        cdp.detach()
    missing = []
    for node in tree["nodes"]:
        role = (node.get("role") or {}).get("value", "")
        if node.get("ignored") or role not in CONTROL_ROLES:
            continue
        name = str((node.get("name") or {}).get("value", "")).strip()
        if not name:
            missing.append(f"{role} (backend node {node.get('backendDOMNodeId')})")
    return missing


def check_screen(page: Page, screens: Screens, step: str, shown: str | None = None) -> None:
    """No sideways scroll, every control named; a phone-sized screenshot of the
    part of the page the step is about (``shown``, a CSS selector)."""
    overflow = horizontal_overflow(page)
    if shown:
        page.locator(shown).first.evaluate("part => part.scrollIntoView({block: 'start'})")
    screens.shoot(page, step, full_page=False)
    assert overflow <= 0, f"{step}: the page scrolls sideways by {overflow} px at 360 px wide"
    assert unnamed_controls(page) == [], f"{step}: controls without an accessible name"


def test_spanish_by_default_and_english_on_request(
    browser: Browser, up: Running, screens: Screens
) -> None:
    # The browser's own language is English: the page is Spanish all the same
    # until the person asks.
    context = browser.new_context(base_url=up.base_url, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/")
        assert page.evaluate("navigator.language") == "en-US"
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.get_by_test_id("signin-link")).to_have_text(ES["signin.link"])
        expect(page.locator("#signin-title")).to_have_text(ES["signin.title"])

        switch = page.get_by_test_id("lang-switch")
        expect(switch).to_have_text(ES["lang.switch"])
        switch.click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_test_id("signin-link")).to_have_text(EN["signin.link"])
        expect(page.locator("#signin-title")).to_have_text(EN["signin.title"])
        assert EN["signin.title"] != ES["signin.title"]
        screens.shoot(page, "english")

        # The choice outlives a reload; switching back restores the Spanish texts.
        page.reload()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_test_id("lang-switch").click()
        expect(page.get_by_test_id("signin-link")).to_have_text(ES["signin.link"])
    finally:
        context.close()


def test_every_screen_fits_a_phone_and_names_its_controls(
    browser: Browser, up: Running, screens: Screens
) -> None:
    context = browser.new_context(
        base_url=up.base_url, viewport=PHONE, locale="es-ES", is_mobile=True, has_touch=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto("/")
        expect(page.get_by_test_id("signin-link")).to_be_visible()
        check_screen(page, screens, "phone-signed-out")

        page.get_by_test_id("signin-link").click()
        page.get_by_label("Correo electrónico").wait_for()
        check_screen(page, screens, "phone-dev-sign-in")
        page.get_by_label("Correo electrónico").fill("movil@example.com")
        page.get_by_role("button", name="Entrar").click()
        expect(page.get_by_test_id("upload-button")).to_be_visible()
        check_screen(page, screens, "phone-upload")

        page.get_by_test_id("file-input").set_input_files(SAMPLE)
        page.get_by_test_id("client-name").fill("Cliente con un nombre bastante largo, S.A.")
        check_screen(page, screens, "phone-file-chosen", "#upload")
        page.get_by_test_id("upload-button").click()
        wait_until_emailed(page, up.base_url)
        check_screen(page, screens, "phone-status", "#status-box")

        page.get_by_role("link", name=ES["nav.history"]).click()
        expect(page.get_by_test_id("history-item")).to_have_count(1)
        check_screen(page, screens, "phone-history", "#history")

        page.get_by_test_id("history-item").first.get_by_role("button").click()
        expect(page.get_by_test_id("acta-view")).to_be_visible()
        expect(page.get_by_test_id("download-docx")).to_be_visible()
        check_screen(page, screens, "phone-acta", "[data-testid=acta-view]")

        page.get_by_test_id("erase-button").click()
        expect(page.get_by_test_id("confirm-erase")).to_be_visible()
        check_screen(page, screens, "phone-erase-confirm")
        page.get_by_test_id("confirm-erase").click()
        expect(page.get_by_test_id("acta-view")).to_be_hidden()

        page.get_by_role("link", name=ES["nav.account"]).click()
        expect(page.get_by_test_id("account-erase")).to_be_visible()
        check_screen(page, screens, "phone-account", "#account")
    finally:
        context.close()


def focused(page: Page) -> dict[str, str]:
    """What has the keyboard focus, and whether it shows it."""
    info: dict[str, str] = page.evaluate(
        """() => {
          const el = document.activeElement;
          // The file input is hidden for sight: its label, the drop zone, shows the ring.
          const ring = el.type === "file" && el.labels && el.labels.length ? el.labels[0] : el;
          const style = getComputedStyle(ring);
          const shown = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
            || style.boxShadow !== "none";
          return {testid: el.dataset.testid || "", id: el.id || "", tag: el.tagName.toLowerCase(),
                  type: el.type || "", visible: shown ? "yes" : "no"};
        }"""
    )
    return info


def tab_to(page: Page, want: str, *, limit: int = 25) -> dict[str, str]:
    """Press Tab until the element with data-testid or id ``want`` has the focus."""
    path: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        path.append(now["testid"] or now["id"] or now["tag"])
        if want in (now["testid"], now["id"]):
            assert now["visible"] == "yes", f"{want} has the focus but does not show it"
            return now
    raise AssertionError(f"Tab never reached {want}; the focus went through {path}")


def test_sign_in_and_upload_with_the_keyboard_only(page: Page, up: Running) -> None:
    # Playwright turns on the interception of file choosers with the first
    # listener, without waiting for the browser to confirm it: registered only
    # around the key press, the chooser can open (and close, headless) before.
    page.on("filechooser", lambda _chooser: None)
    page.goto("/")
    expect(page.get_by_test_id("signin-link")).to_be_visible()
    tab_to(page, "signin-link")
    page.keyboard.press("Enter")

    page.wait_for_url("**/auth/sign-in**")
    email = page.get_by_label("Correo electrónico")
    for _ in range(5):
        if email.evaluate("el => el === document.activeElement"):
            break
        page.keyboard.press("Tab")
    else:
        raise AssertionError("Tab never reached the sign-in form's email field")
    page.keyboard.type("teclado@example.com")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("upload-button")).to_be_visible()

    # The drop zone opens the file chooser from the keyboard (Enter on it).
    tab_to(page, "file-input")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(SAMPLE)
    expect(page.get_by_test_id("drop-zone")).to_contain_text(SAMPLE.name)

    tab_to(page, "client-name")
    page.keyboard.type("Teclado S.L.")
    tab_to(page, "upload-button")
    page.keyboard.press("Enter")
    wait_until_emailed(page, up.base_url)
    assert [m for m in up.mailbox.messages() if m["to"] == "teclado@example.com"] != []
