"""The web page (web/), checked as files: what the browser test and a person rely on.

No browser here (tests/browser drives the page): these read the HTML, the ES
modules and the two text files, so a renamed test id, a text missing in one
language, an unlabelled input or a script fetched from a CDN fails in seconds.
"""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from harness import load_script
from voxcliente.domain.media import ALLOWED_TYPES

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
LANGUAGES = ("es", "en")

# The ids the browser test drives the page by (the contract's list).
TEST_IDS = (
    "signin-link",
    "file-input",
    "drop-zone",
    "client-name",
    "upload-button",
    "cancel-button",
    "progress",
    "progress-text",
    "status",
    "status-reason",
    "history-list",
    "history-item",
    "filter-client",
    "filter-status",
    "filter-from",
    "filter-to",
    "acta-view",
    "download-docx",
    "download-transcript",
    "download-audio",
    "resend-button",
    "erase-button",
    "confirm-erase",
    "lang-switch",
    "account-erase",
)
MEETING_STATUSES = ("received", "submitted", "transcribed", "generating", "emailed", "failed")


def _html() -> str:
    return (WEB / "index.html").read_text(encoding="utf-8")


def _scripts() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((WEB / "js").glob("*.js"))}


def _texts(lang: str) -> dict[str, str]:
    data = json.loads((WEB / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


class _Page(HTMLParser):
    """The elements of index.html with their attributes, and the labels' targets."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.label_for: set[str] = set()
        self.open_labels = 0
        self.inputs_in_labels: set[int] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.elements.append((tag, values))
        if tag == "label":
            self.open_labels += 1
            if "for" in values:
                self.label_for.add(values["for"])
        elif tag in ("input", "select", "textarea") and self.open_labels:
            self.inputs_in_labels.add(len(self.elements) - 1)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels -= 1


def _page() -> _Page:
    page = _Page()
    page.feed(_html())
    return page


def test_every_test_id_is_in_the_page_or_made_by_its_scripts() -> None:
    page = _page()
    in_html = {attrs["data-testid"] for _, attrs in page.elements if "data-testid" in attrs}
    # Items of lists the scripts draw: dataset: {testid: "history-item"}.
    scripts = "\n".join(_scripts().values())
    in_js = set(re.findall(r"testid:\s*\"([a-z0-9-]+)\"", scripts))
    missing = [test_id for test_id in TEST_IDS if test_id not in in_html | in_js]
    assert not missing, f"data-testid missing from web/: {missing}"
    ids = [attrs["data-testid"] for _, attrs in page.elements if "data-testid" in attrs]
    assert len(ids) == len(set(ids)), "a data-testid used twice in index.html"


def test_the_progress_bar_is_a_progressbar_with_a_value() -> None:
    (bar,) = [a for _, a in _page().elements if a.get("data-testid") == "progress"]
    assert bar["role"] == "progressbar"
    assert (bar["aria-valuemin"], bar["aria-valuemax"], bar["aria-valuenow"]) == ("0", "100", "0")
    assert "aria-valuenow" in _scripts()["upload.js"]


def _keys_used() -> set[str]:
    used: set[str] = set()
    sources = [_html(), *_scripts().values()]
    for text in sources:
        used |= set(re.findall(r"\bt\(\s*\"([a-z0-9_.]+)\"", text))
        used |= set(re.findall(r"data-i18n\"?\s*[=:]\s*\"([a-z0-9_.]+)\"", text))
        keyed = r"(?:titleKey|textKey|error):\s*\"([a-z][a-z0-9_]*\.[a-z0-9_.]+)\""
        used |= set(re.findall(keyed, text))
        used |= set(re.findall(r"showSignIn\(\"([a-z0-9_.]+)\"\)", text))
        for pairs in re.findall(r"data-i18n-attr=\"([a-z\-]+:[a-z0-9_.;:\-]+)\"", text):
            used |= {pair.split(":")[1] for pair in pairs.split(";")}
    # Keys built from a value: t(`status.${...}`) and t(`error.${code}`).
    used |= {f"status.{status}" for status in (*MEETING_STATUSES, "waiting_for_file")}
    known = re.search(r"const KNOWN = new Set\(\[(.*?)\]\)", _scripts()["errors.js"], re.S)
    assert known, "errors.js lists the error codes it words itself"
    used |= {f"error.{code}" for code in re.findall(r"\"([a-z_]+)\"", known.group(1))}
    return used


def test_every_text_the_page_uses_exists_in_both_languages() -> None:
    used = _keys_used()
    assert len(used) > 80, "the key scan found too little: has the t(...) convention changed?"
    for lang in LANGUAGES:
        texts = _texts(lang)
        missing = sorted(used - set(texts))
        assert not missing, f"web/i18n/{lang}.json lacks {missing}"
        assert all(isinstance(v, str) and v.strip() for v in texts.values()), lang


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    es, en = _texts("es"), _texts("en")
    assert set(es) == set(en)
    for key in es:
        placeholders = set(re.findall(r"\{(\w+)\}", es[key]))
        assert placeholders == set(re.findall(r"\{(\w+)\}", en[key])), key
    # Spanish is the default: the page as served reads Spanish before any script runs.
    assert re.search(r"<html lang=\"es\">", _html())
    assert 'current = "es"' in _scripts()["i18n.js"]


def test_no_address_outside_the_page_but_clerks_own_script() -> None:
    """Nothing is fetched from a CDN: the only absolute URL is Clerk's browser
    bundle, served by the instance's own Frontend API host (from the key)."""
    allowed = re.compile(r"https://\$\{host\}/npm/@clerk/clerk-js@\d+/dist/clerk\.browser\.js")
    for path in sorted(WEB.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"(?:https?:)?//[A-Za-z0-9$\{]", text):
            start = match.start()
            line = text[text.rfind("\n", 0, start) + 1 : text.find("\n", start)]
            if match.group().startswith("//") and not re.search(r"[\"'(=]\s*//", line):
                continue  # a JavaScript or CSS comment, not a protocol-relative URL
            assert allowed.search(text, start, start + 80), f"{path.name}: {line.strip()}"
    html = _html()
    assert "<script" in html
    assert all(src.startswith("js/") for src in re.findall(r"<script[^>]*src=\"([^\"]+)\"", html))


def test_every_form_control_has_a_label() -> None:
    page = _page()
    for index, (tag, attrs) in enumerate(page.elements):
        if tag not in ("input", "select", "textarea") or attrs.get("type") == "hidden":
            continue
        labelled = (
            attrs.get("id", "") in page.label_for
            or index in page.inputs_in_labels
            or "aria-label" in attrs
            or "aria-labelledby" in attrs
        )
        assert labelled, f"<{tag} id={attrs.get('id')!r}> has no label"


def test_the_page_declares_its_language_viewport_and_title() -> None:
    html = _html()
    assert re.search(r"<html lang=\"[a-z]{2}\">", html)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert re.search(r"<title>[^<]+</title>", html)
    # Buttons say what they do; none is only an icon.
    page = _page()
    for tag, attrs in page.elements:
        if tag == "button":
            assert "data-i18n" in attrs or "aria-label" in attrs or attrs.get("id") == "lang-switch"


@pytest.mark.parametrize("name", sorted(p.name for p in (WEB / "js").glob("*.js")))
def test_scripts_are_modules_that_never_write_html(name: str) -> None:
    """Meeting titles, names and the acta come from people and a model: they are
    written as text, never parsed as HTML."""
    source = _scripts()[name]
    assert "innerHTML" not in source and "outerHTML" not in source, name
    assert "insertAdjacentHTML" not in source and "document.write" not in source, name
    assert "eval(" not in source and "new Function" not in source, name
    for module in re.findall(r"from \"(\./[a-z]+\.js)\"", source):
        assert (WEB / "js" / module).is_file(), f"{name} imports a missing {module}"


def test_the_upload_sends_the_presigned_fields_first_and_the_file_last() -> None:
    upload = _scripts()["upload.js"]
    fields = upload.index("Object.entries(offer.fields)")
    file_last = upload.index('data.append("file", file)')
    assert fields < file_last
    needed_calls = ('xhr.upload.addEventListener("progress"', "xhr.abort()", '"error"', '"timeout"')
    for needed in needed_calls:
        assert needed in upload, needed


# --- make publish-web -------------------------------------------------------------
PUBLISHABLE_KEY = "pk_test_" + base64.b64encode(b"brave-otter-12.clerk.accounts.dev$").decode()


@pytest.fixture(scope="module")
def publish_web() -> ModuleType:
    return load_script("publish_web")


def _stack(publish_web: ModuleType, **parameters: str) -> Any:
    return publish_web.Stack(
        outputs={
            "WebUrl": "https://d111111abcdef8.cloudfront.net",
            "WebBucketName": "voxcliente-web-test",
            "WebDistributionId": "E2EXAMPLE",
            "ApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com",
        },
        parameters={
            "WebOrigins": "http://localhost:5173,https://d111111abcdef8.cloudfront.net",
            "MaxUploadBytes": "1000000",
            "AuthIssuerUrl": "https://brave-otter-12.clerk.accounts.dev",
            **parameters,
        },
    )


class _CloudFront:
    def __init__(self) -> None:
        self.invalidations: list[dict[str, Any]] = []

    def create_invalidation(self, **kwargs: Any) -> None:
        self.invalidations.append(kwargs)


def test_publish_uploads_the_page_writes_its_config_and_invalidates(
    publish_web: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="voxcliente-web-test")
        s3.put_object(Bucket="voxcliente-web-test", Key="js/old.js", Body=b"// gone")
        cloudfront = _CloudFront()
        url = publish_web.publish(
            _stack(publish_web), s3=s3, cloudfront=cloudfront, publishable_key=PUBLISHABLE_KEY
        )
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="voxcliente-web-test")["Contents"]}
        index = s3.get_object(Bucket="voxcliente-web-test", Key="index.html")
        module = s3.head_object(Bucket="voxcliente-web-test", Key="js/main.js")
        config = json.loads(
            s3.get_object(Bucket="voxcliente-web-test", Key="config.json")["Body"].read()
        )
    assert url == "https://d111111abcdef8.cloudfront.net"
    web = {p.relative_to(WEB).as_posix() for p in WEB.rglob("*") if p.is_file()}
    assert keys == web | {"config.json"}, "every file of web/, the config, nothing stale"
    assert index["ContentType"] == "text/html; charset=utf-8"
    assert index["CacheControl"] == "no-cache"
    # ES modules load only with a JavaScript content type.
    assert module["ContentType"] == "text/javascript; charset=utf-8"
    assert config == {
        "apiBase": "https://abc123.execute-api.us-east-1.amazonaws.com",
        "auth": {"mode": "clerk", "publishableKey": PUBLISHABLE_KEY, "jwtTemplate": "voxcliente"},
        "maxUploadBytes": 1000000,
        "acceptedTypes": {kind: list(exts) for kind, exts in ALLOWED_TYPES.items()},
    }
    (invalidation,) = cloudfront.invalidations
    assert invalidation["DistributionId"] == "E2EXAMPLE"
    assert invalidation["InvalidationBatch"]["Paths"] == {"Quantity": 1, "Items": ["/*"]}


def test_publish_refuses_a_page_whose_origin_the_api_would_block(publish_web: ModuleType) -> None:
    stack = _stack(publish_web, WebOrigins="http://localhost:5173")
    with pytest.raises(publish_web.PublishError) as refused:
        publish_web.publish(
            stack, s3=None, cloudfront=None, publishable_key=PUBLISHABLE_KEY, env="prod"
        )
    message = str(refused.value)
    # The exact value to deploy with: the origins kept, the page's added.
    assert "WebOrigins=http://localhost:5173,https://d111111abcdef8.cloudfront.net" in message
    assert "sam deploy --guided --config-env prod" in message


@pytest.mark.parametrize(
    ("key", "issuer", "says"),
    [
        ("", "https://brave-otter-12.clerk.accounts.dev", "starting with pk_test_ or pk_live_"),
        ("sk_test_abc", "https://brave-otter-12.clerk.accounts.dev", "pk_test_ or pk_live_"),
        (PUBLISHABLE_KEY, "https://other-cat-3.clerk.accounts.dev", "other-cat-3"),
    ],
)
def test_publish_refuses_a_key_the_api_would_not_accept_tokens_of(
    publish_web: ModuleType, key: str, issuer: str, says: str
) -> None:
    stack = _stack(publish_web, AuthIssuerUrl=issuer)
    with pytest.raises(publish_web.PublishError, match=re.escape(says)):
        publish_web.publish(stack, s3=None, cloudfront=None, publishable_key=key)
    assert publish_web.clerk_host(PUBLISHABLE_KEY) == "brave-otter-12.clerk.accounts.dev"
