"""What the browser tests do again and again: sign in through the dev sign-in
page, watch the progress bar, wait on the stack, look into moto's bucket."""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import CDPSession, Page

ROOT = Path(__file__).resolve().parents[2]
# The Spanish sample: the AssemblyAI emulator knows its transcript and the
# OpenAI emulator answers its hand-written golden acta.
SAMPLE = ROOT / "samples" / "reunion-textiles-andinos.mp3"
GOLDEN_ACTA: dict[str, Any] = json.loads(
    (ROOT / "samples" / "reunion-textiles-andinos.acta.json").read_text(encoding="utf-8")
)["acta"]
JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


def wait_for[T](what: str, probe: Callable[[], T | None], *, timeout_s: float = 60.0) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)


# --- sign-in -------------------------------------------------------------------------


def session_token(page: Page) -> str:
    """The sign-in token the page keeps in sessionStorage (and nowhere in the URL)."""
    values: list[str] = page.evaluate("Object.values(window.sessionStorage)")
    tokens = [value for value in values if JWT.match(value)]
    assert tokens, f"no sign-in token in sessionStorage (it holds {len(values)} value(s))"
    return tokens[0]


# --- the API and the stack, seen from the test ----------------------------------------


def api(base_url: str, method: str, path: str, token: str) -> tuple[int, Any]:
    """One request to the stack's HTTP API as the page would make it."""
    request = urllib.request.Request(
        base_url + path, method=method, headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"null")


def bucket_keys(moto_endpoint: str, bucket: str, *needles: str) -> list[str]:
    """Every version and delete marker in the bucket whose key holds one of ``needles``."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    found: list[str] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            if any(needle in entry["Key"] for needle in needles):
                found.append(entry["Key"])
    return found


def wait_until_emailed(page: Page, base_url: str) -> None:
    """The page's status reaches "emailed"; if it does not, the failure shows
    where the account's meetings stand according to the API."""
    from playwright.sync_api import expect

    try:
        expect(page.get_by_test_id("status")).to_have_attribute(
            "data-status", "emailed", timeout=90_000
        )
    except AssertionError as stuck:
        code, listing = api(base_url, "GET", "/meetings?limit=5", session_token(page))
        raise AssertionError(f"{stuck}\nGET /meetings answers {code}: {listing}") from stuck


# --- the progress bar ----------------------------------------------------------------

# Installed before the page's own scripts: every aria-valuenow the progress bar
# takes is recorded as it happens, however briefly it is shown.
PROGRESS_RECORDER = """
(() => {
  const seen = [];
  window.__voxProgress = seen;
  const read = () => {
    for (const bar of document.querySelectorAll('[data-testid="progress"]')) {
      const value = bar.getAttribute("aria-valuenow");
      if (value !== null && seen[seen.length - 1] !== value) seen.push(value);
    }
  };
  new MutationObserver(read).observe(document, {
    subtree: true, childList: true, attributes: true, attributeFilter: ["aria-valuenow"],
  });
})();
"""


def progress_values(page: Page) -> list[float]:
    values: list[str] = page.evaluate("window.__voxProgress || []")
    return [float(value) for value in values]


@dataclass
class Throttle:
    """DevTools' network throttling: uploads at ``bytes_per_s``, so that a small
    sample takes long enough on loopback for the progress bar to move."""

    cdp: CDPSession
    history: list[int] = field(default_factory=list)

    def upload(self, bytes_per_s: int) -> None:
        self.cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": 0,
                "downloadThroughput": -1,
                "uploadThroughput": bytes_per_s,
            },
        )
        self.history.append(bytes_per_s)

    def off(self) -> None:
        self.upload(-1)


def throttle(page: Page) -> Throttle:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    return Throttle(cdp)


def log(message: str) -> None:
    """A step, in the test's captured output (shown when it fails)."""
    print(f"[browser] {message}", file=sys.stderr)
