"""The whole flow a person takes on the web page, in headless Chromium, against
``make up``: sign in, upload the Spanish sample and watch it go up, follow its
status to "emailed", read the email in the local mailbox, find the meeting in
the history with its filters, open its acta, download the .docx, send it again,
erase it. Each step leaves a screenshot in out/screens/."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from browser.steps import (
    GOLDEN_ACTA,
    PROGRESS_RECORDER,
    SAMPLE,
    api,
    bucket_keys,
    log,
    progress_values,
    session_token,
    throttle,
    wait_for,
    wait_until_emailed,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from browser.conftest import PageErrors, Screens
    from voxlocal.up import Running

EMAIL = "laura.mendez@example.com"
CLIENT = "Textiles Andinos"
# About five seconds for the 230 kB sample: long enough for several progress
# events, short enough not to slow the suite down.
UPLOAD_BYTES_PER_S = 48 * 1024


def _mail_to(up: Running, address: str) -> list[dict[str, object]]:
    return [message for message in up.mailbox.messages() if message["to"] == address]


def test_sign_in_upload_follow_read_find_download_resend_erase(
    page: Page, up: Running, screens: Screens, page_errors: PageErrors
) -> None:
    page.add_init_script(PROGRESS_RECORDER)

    # --- sign in through the local issuer's page ---------------------------------
    page.goto("/")
    expect(page.get_by_test_id("signin-link")).to_be_visible()
    screens.shoot(page, "signed-out")
    page.get_by_test_id("signin-link").click()
    page.wait_for_url(re.compile(r"/auth/sign-in\?return_to="))
    page.get_by_label("Correo electrónico").fill(EMAIL)
    screens.shoot(page, "dev-sign-in")
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_test_id("file-input")).to_be_attached()
    expect(page.get_by_test_id("upload-button")).to_be_visible()
    assert "#token=" not in page.url, "the token must leave the address bar"
    token = session_token(page)

    # --- choose the file, describe the meeting -------------------------------------
    page.get_by_test_id("client-name").fill(CLIENT)
    page.get_by_test_id("file-input").set_input_files(SAMPLE)
    expect(page.get_by_test_id("drop-zone")).to_contain_text(SAMPLE.name)
    screens.shoot(page, "file-chosen")

    # --- upload it, slowed down so that the bar has something to show ------------
    network = throttle(page)
    network.upload(UPLOAD_BYTES_PER_S)
    page.get_by_test_id("upload-button").click()
    expect(page.get_by_test_id("cancel-button")).to_be_visible()
    expect(page.get_by_test_id("retry-button")).to_be_hidden()
    page.wait_for_function(
        "() => { const v = Number(document.querySelector('[data-testid=progress]')"
        ".getAttribute('aria-valuenow')); return v >= 25 && v <= 85; }"
    )
    expect(page.get_by_test_id("progress-text")).to_contain_text(re.compile(r"\d"))
    screens.shoot_part(page.locator("#upload"), "upload-progress")
    expect(page.get_by_test_id("status")).not_to_have_attribute("data-status", "")
    network.off()

    seen = progress_values(page)
    log(f"aria-valuenow seen: {seen}")
    assert len(set(seen)) > 1, f"the progress bar took one value only: {seen}"
    assert any(0 < value < 100 for value in seen), f"no value between 0 and 100: {seen}"
    assert seen == sorted(seen), f"the progress went backwards: {seen}"
    assert seen[-1] == 100, f"the upload ended without reaching 100: {seen}"

    # --- its status, stage after stage, until the acta is emailed -------------------
    wait_until_emailed(page, up.base_url)
    expect(page.get_by_test_id("status-reason")).to_be_hidden()
    expect(page.locator("#status-steps li.done")).to_have_count(5)
    expect(page.get_by_test_id("cancel-button")).to_be_hidden()
    expect(page.get_by_test_id("retry-button")).to_be_hidden()
    screens.shoot(page, "status-emailed")

    # --- the email, in the local mailbox -------------------------------------------
    mail = wait_for("the acta in the local mailbox", lambda: _mail_to(up, EMAIL))
    assert len(mail) == 1, mail
    attachments = [str(a["filename"]) for a in mail[0]["attachments"]]  # type: ignore[attr-defined]
    assert any(name.endswith(".docx") for name in attachments), attachments
    mailbox = page.context.new_page()
    mailbox.goto("/mailbox")
    expect(mailbox.get_by_text(EMAIL).first).to_be_visible()
    expect(mailbox.get_by_text(str(mail[0]["subject"])).first).to_be_visible()
    screens.shoot(mailbox, "mailbox")
    mailbox.get_by_text(str(mail[0]["subject"])).first.click()
    mailbox.wait_for_url(re.compile(r"/mailbox/.+"))
    expect(mailbox.frame_locator("iframe").get_by_text(GOLDEN_ACTA["title"]).first).to_be_visible()
    expect(mailbox.get_by_role("link", name=re.compile(r"\.docx"))).to_be_visible()
    screens.shoot(mailbox, "mailbox-acta")
    mailbox.close()

    # --- the history, and its filters --------------------------------------------------
    page.get_by_role("link", name="Historial").click()
    items = page.get_by_test_id("history-item")
    expect(items).to_have_count(1)
    meeting_id = items.first.get_attribute("data-meeting-id")
    assert meeting_id, "a history item names its meeting (data-meeting-id)"
    expect(items.first).to_contain_text(GOLDEN_ACTA["title"])
    expect(items.first).to_contain_text(CLIENT)
    expect(items.first).to_have_attribute("data-status", "emailed")
    expect(page.get_by_test_id("history-more")).to_be_hidden()
    screens.shoot(page, "history")

    today = dt.datetime.now(dt.UTC).date()
    page.get_by_test_id("filter-status").select_option("failed")
    expect(items).to_have_count(0)
    page.get_by_test_id("filter-status").select_option("emailed")
    expect(items).to_have_count(1)
    page.get_by_test_id("filter-from").fill((today + dt.timedelta(days=1)).isoformat())
    expect(items).to_have_count(0)
    page.get_by_test_id("filter-from").fill(today.isoformat())
    page.get_by_test_id("filter-to").fill(today.isoformat())
    expect(items).to_have_count(1)
    client_option = page.get_by_test_id("filter-client").locator("option", has_text=CLIENT)
    expect(client_option).to_have_count(1)
    page.get_by_test_id("filter-client").select_option(client_option.get_attribute("value"))
    expect(items).to_have_count(1)
    screens.shoot(page, "history-filtered")

    # --- the acta ----------------------------------------------------------------------
    items.first.get_by_role("button").click()
    acta = page.get_by_test_id("acta-view")
    expect(acta).to_be_visible()
    expect(acta.get_by_role("heading", level=2)).to_have_text(GOLDEN_ACTA["title"])
    expect(acta).to_contain_text(GOLDEN_ACTA["decisions"][0])
    screens.shoot(page, "acta")
    # The history with its filters and the acta opened under it, as the window shows them.
    page.locator("#history").evaluate("section => section.scrollIntoView({block: 'start'})")
    screens.shoot(page, "history-and-acta", full_page=False)

    # --- the .docx, as the browser downloads it ------------------------------------------
    with page.expect_download() as started:
        page.get_by_test_id("download-docx").click()
    download = started.value
    assert download.suggested_filename.endswith(".docx"), download.suggested_filename
    saved = download.path()
    assert zipfile.is_zipfile(saved), "the .docx is not a zip file"
    with zipfile.ZipFile(saved) as docx:
        document = docx.read("word/document.xml").decode("utf-8")
    assert GOLDEN_ACTA["title"] in re.sub(r"<[^>]+>", "", document)

    # --- send it again: a second email ------------------------------------------------
    page.get_by_test_id("resend-button").click()
    wait_for("the resent acta in the mailbox", lambda: len(_mail_to(up, EMAIL)) == 2)
    screens.shoot(page, "resent")

    # --- erase it, after saying yes ----------------------------------------------------
    status_code, meeting = api(up.base_url, "GET", f"/meetings/{meeting_id}", token)
    assert status_code == 200, meeting
    upload_id = re.search(r"uploads/([^/]+)/", meeting["downloads"]["audio"]["url"])
    assert upload_id, meeting["downloads"]["audio"]
    stored = bucket_keys(up.moto_endpoint, up.bucket, meeting_id, upload_id.group(1))
    assert any(key.endswith(".docx") for key in stored), stored
    assert any(key.startswith("uploads/") for key in stored), stored

    page.get_by_test_id("erase-button").click()
    confirm = page.get_by_test_id("confirm-erase")
    expect(confirm).to_be_visible()
    screens.shoot(page, "erase-confirm")
    confirm.click()
    expect(acta).to_be_hidden()
    page.get_by_role("link", name="Historial").click()
    page.get_by_test_id("filter-status").select_option("")
    page.get_by_test_id("filter-client").select_option("")
    page.get_by_test_id("filter-from").fill("")
    page.get_by_test_id("filter-to").fill("")
    expect(items).to_have_count(0)
    screens.shoot(page, "erased")

    assert api(up.base_url, "GET", f"/meetings/{meeting_id}", token)[0] == 404
    left = bucket_keys(up.moto_endpoint, up.bucket, meeting_id, upload_id.group(1))
    assert left == [], f"objects (versions or delete markers) left after the erasure: {left}"
    assert page_errors.uncaught == [], page_errors.uncaught
    assert page_errors.console == [], page_errors.console
    assert page_errors.refused == [], page_errors.refused
