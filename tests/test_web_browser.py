"""The web pages in a real browser: headless Chromium (Debian's package, driven by Playwright) at a
phone's viewport opens the address a report's QR code carries, shows the verdict, compares a PDF
picked on the phone in the browser, and loads nothing from outside the host. One browser for the
whole module. Where Chromium or Playwright is missing the tests fail: CI must run them
(`make test` installs Chromium through tools/debian-packages).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import zxingcpp
from pypdf import PdfReader

from db import migrate
from db.session import Database
from services import download_links
from tests.conftest import _harness, settings_for
from tests.pdf_inspect import render
from tests.test_lifecycle_support import HENGDA, add_subject, bind, today
from tests.test_report_pdf import ID_MASKED, documents, seed_company
from tests.test_webhook import free_port
from tests.web_server import serving
from tests.wechat_harness import wechat_settings
from tests.wechat_standin import APP_ID, WECHAT_USER_HEADER, WeChatStandIn

CHROMIUM = os.environ.get("CREDITBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "zh-CN"}


@dataclasses.dataclass
class Site:
    url: str
    db: Database
    settings: object
    report: bytes  # an official's report of 安康市恒达建材有限公司
    person_report: bytes  # a natural person's own report
    chat_id: int


def qr_of(pdf: bytes) -> str:
    found = [
        b.text for page in range(len(PdfReader(io.BytesIO(pdf)).pages))
        for b in zxingcpp.read_barcodes(render(pdf, page)) if b.format == zxingcpp.BarcodeFormat.QRCode
    ]
    assert len(found) == 1
    return found[0]


@pytest.fixture(scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    """A database with two issued reports whose QR codes point at the web pages, served on 127.0.0.1."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('web') / 'web.sqlite3'}")
    await migrate.upgrade(db)
    port = free_port()
    base = settings_for(db)
    settings = dataclasses.replace(base, region=dataclasses.replace(base.region, public_url=f"http://127.0.0.1:{port}"))
    async for harness in _harness(db, settings):
        await seed_company(harness)
        official = await harness.chat("official", dept="SCJGJ")
        [report] = documents(await harness.say(official, f"/report {HENGDA}"), official.chat.id)
        person = await add_subject(harness.db, name="张三丰", uscc=None, kind="自然人", id_masked=ID_MASKED, id_hash="h" * 64)
        me = await harness.chat("public")
        await bind(harness.db, me.chat.id, person)
        [own] = documents(await harness.say(me, "/report"), me.chat.id)
        assert today(harness)
    async with serving(settings, db, port) as url:
        yield Site(url, db, settings, report.content, own.content, me.chat.id)
    await db.dispose()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[object]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:  # pragma: no cover - the test extra installs it
        pytest.fail("Playwright is required for the browser tests (pip install -e '.[test]')", pytrace=False)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is required for the browser tests ({CHROMIUM}; `make test` installs it)", pytrace=False)
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def phone_page(browser: object, site: Site):  # type: ignore[no-untyped-def]
    """A page at a phone's viewport that records every request it makes."""
    context = await browser.new_context(**PHONE)  # type: ignore[attr-defined]
    page = await context.new_page()
    page.requested = []
    page.on("request", lambda request: page.requested.append(request.url))
    return context, page


async def test_the_qr_code_opens_the_verdict_and_the_file_is_compared_on_the_phone(
    browser: object, site: Site, tmp_path: Path
) -> None:
    target = qr_of(site.report)
    assert target.startswith(site.url + "/verify?")  # what the phone's camera opens
    context, page = await phone_page(browser, site)
    try:
        response = await page.goto(target)
        assert response.status == 200 and "text/html" in response.headers["content-type"]
        assert await page.get_attribute("#verdict", "data-status") == "genuine"
        assert "真实有效" in await page.inner_text("#verdict")
        details = await page.inner_text("dl")
        for part in ("安信报〔", "信用报告", "安康市恒达建材有限公司", HENGDA, "办事人员", "安康市公共信用信息平台",
                     f"{dt.date.today():%Y年}"):
            assert part in details, part
        # Readable on a phone: nothing wider than the screen, large type.
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        assert float((await page.evaluate("getComputedStyle(document.body).fontSize")).rstrip("px")) >= 18
        shot = Path(os.environ.get("CREDITBOT_SCREENSHOT_DIR", tmp_path)) / "verify.png"
        await page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000

        original = tmp_path / "信用报告.pdf"
        original.write_bytes(site.report)
        await page.set_input_files("#pdf", str(original))
        await page.wait_for_selector("#compare.same")
        assert "文件一致" in await page.inner_text("#compare")
        assert await page.get_attribute("#compare", "data-computed") == hashlib.sha256(site.report).hexdigest()
        altered = tmp_path / "信用报告-改.pdf"
        altered.write_bytes(site.report.replace(b"/Producer", b"/Produced"))
        await page.set_input_files("#pdf", str(altered))
        await page.wait_for_selector("#compare.different")
        assert "已被改动" in await page.inner_text("#compare")
        not_pdf = tmp_path / "photo.jpg"
        not_pdf.write_bytes(b"\xff\xd8\xff\xe0 not a pdf")
        await page.set_input_files("#pdf", str(not_pdf))
        # (a selector, not wait_for_function: the page's CSP forbids evaluating strings, as it should)
        await page.locator("#compare", has_text="请选择 PDF 文件").wait_for()

        # The page's own SHA-256 (used where Web Crypto is unavailable) agrees with Python's.
        for size in (0, 55, 56, 64, 1000, 300_001):
            data = os.urandom(size)
            got = await page.evaluate("(b) => sha256Fallback(new Uint8Array(b))", list(data))
            assert got == hashlib.sha256(data).hexdigest(), size
        # Nothing was loaded from anywhere but this host, and no file went to the server.
        assert page.requested and all(url.startswith(site.url + "/") for url in page.requested), page.requested
        assert [u for u in page.requested if urlsplit(u).path == "/verify"] == [target]
        assert "default-src 'none'" in response.headers["content-security-policy"]
    finally:
        await context.close()


async def test_wrong_code_unknown_number_and_a_persons_masked_name(browser: object, site: Site) -> None:
    target = qr_of(site.report)
    code = target.split("code=")[1]
    wrong = target.replace(code, code[:-1] + ("3" if code[-1] != "3" else "4"))
    unknown = target.replace("000001", "000099")
    context, page = await phone_page(browser, site)
    try:
        for url, status, words in ((wrong, "wrong_code", "核验码不正确"), (unknown, "unknown", "查无此编号")):
            await page.goto(url)
            assert await page.get_attribute("#verdict", "data-status") == status
            body = await page.inner_text("body")
            assert words in body and "恒达" not in body and await page.query_selector("#pdf") is None
        await page.goto(qr_of(site.person_report))
        body = await page.inner_text("body")
        assert "张**" in body and "张三丰" not in body and ID_MASKED in body
    finally:
        await context.close()
    # The same address answers JSON to a client that asks for it (and to one that asks for anything).
    async with httpx.AsyncClient(timeout=5) as client:
        for accept in ("application/json", "*/*"):
            answer = await client.get(target, headers={"Accept": accept})
            assert answer.headers["content-type"].startswith("application/json")
            assert answer.json()["status"] == "genuine"


async def test_the_form_takes_a_typed_number_and_code_on_the_phone(browser: object, site: Site, tmp_path: Path) -> None:
    target = qr_of(site.report)
    printed = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}  # as printed beside the QR code
    context, page = await phone_page(browser, site)
    try:
        response = await page.goto(site.url + "/verify")
        assert response.status == 200 and await page.query_selector("#verdict") is None
        form = await page.query_selector("#verify-form")
        assert form is not None and await form.get_attribute("method") == "get"
        assert urlsplit(await page.evaluate("document.getElementById('verify-form').action")).netloc == urlsplit(site.url).netloc
        assert "form-action 'self'" in response.headers["content-security-policy"]
        # Large type and high contrast at a phone's width: black on white, thick borders, nothing wider than the screen.
        for field in ("#number", "#code"):
            style = await page.eval_on_selector(field, "e => { const s = getComputedStyle(e); return [s.fontSize, s.color, "
                                                "s.backgroundColor, s.borderTopWidth, e.getBoundingClientRect().width]; }")
            assert float(style[0].rstrip("px")) >= 24 and style[1] == "rgb(0, 0, 0)" and style[2] == "rgb(255, 255, 255)"
            assert float(style[3].rstrip("px")) >= 2 and 300 <= style[4] <= 390
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390
        shot = Path(os.environ.get("CREDITBOT_SCREENSHOT_DIR", tmp_path)) / "verify-form.png"
        await page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5_000
        await page.fill("#number", printed["number"])
        await page.fill("#code", printed["code"])
        async with page.expect_navigation():
            await page.click("#check")
        assert await page.get_attribute("#verdict", "data-status") == "genuine"
        assert urlsplit(page.url).path == "/verify" and parse_qs(urlsplit(page.url).query)["number"] == [printed["number"]]
        # A number without its code: the form again, filled in, asking for the code.
        await page.goto(site.url + "/verify?" + urlsplit(target).query.split("&code=")[0])
        assert await page.input_value("#number") == printed["number"] and "请填写核验码" in await page.inner_text("main")
        assert page.requested and all(url.startswith(site.url + "/") for url in page.requested), page.requested
    finally:
        await context.close()
    async with httpx.AsyncClient(timeout=5) as client:  # a program still has to give both
        answer = await client.get(site.url + "/verify", headers={"Accept": "application/json"})
        assert answer.status_code == 422 and {e["field"] for e in answer.json()["errors"]} == {"number", "code"}


async def test_a_download_link_page_on_the_phone(browser: object, site: Site) -> None:
    secret = site.settings.privacy.id_hash_key  # type: ignore[attr-defined]
    link = await download_links.issue(site.db, secret, site.url, site.chat_id, site.person_report, "信用报告.pdf",
                                      "application/pdf", dt.timedelta(minutes=30), 1)
    context, page = await phone_page(browser, site)
    try:
        await page.goto(link.url)
        assert "下载文件" in await page.inner_text("#download")
        assert "剩余下载次数\n1" in await page.inner_text("dl")
        async with page.expect_download() as pending:
            await page.evaluate("(u) => { const a = document.createElement('a'); a.href = u; a.download = ''; a.click(); }",
                                link.url + "/file")
        download = await pending.value
        assert hashlib.sha256(Path(await download.path()).read_bytes()).hexdigest() == hashlib.sha256(site.person_report).hexdigest()
        again = await page.goto(link.url + "/file")
        assert again.status == 410 and "下载次数已用完" in await page.inner_text("body")
        assert all(url.startswith(site.url + "/") for url in page.requested)
    finally:
        await context.close()


async def test_a_link_for_a_wechat_user_opens_in_their_wechat_only(browser: object, site: Site) -> None:
    """Chromium as the user's WeChat browser: silent 网页授权 at the stand-in, the proof kept as a
    cookie across the redirects, the file downloaded; another user's WeChat gets the Chinese refusal."""
    from bot.wechat import store
    from services.accounts import ensure_local_account

    standin = WeChatStandIn()
    standin.start(free_port())
    port = free_port()
    settings = wechat_settings(site.db, f"http://127.0.0.1:{port}", standin)
    owner, other = "oOwner0000efGhIjKlMnOpQrStUv", "oOther0000efGhIjKlMnOpQrStUv"
    chat = await store.ptb_id_for(site.db, APP_ID, owner)
    await ensure_local_account(site.db, chat, "enterprise", None, None, "测试用户")
    try:
        async with serving(settings, site.db, port) as url:
            link = await download_links.issue(site.db, settings.privacy.id_hash_key, url, chat, site.report, "信用报告.pdf",
                                              "application/pdf", dt.timedelta(minutes=30), 2)
            for user in (owner, other):
                context = await browser.new_context(**PHONE, extra_http_headers={WECHAT_USER_HEADER: user})  # type: ignore[attr-defined]
                page = await context.new_page()
                try:
                    response = await page.goto(link.url)
                    if user == other:
                        assert response.status == 403 and "另一位微信用户" in await page.inner_text("#verdict")
                        continue
                    assert response.status == 200 and page.url.split("#")[0] == link.url
                    async with page.expect_download() as pending:
                        await page.evaluate("(u) => { const a = document.createElement('a'); a.href = u; a.download = ''; "
                                            "a.click(); }", link.url + "/file")
                    download = await pending.value
                    assert Path(await download.path()).read_bytes() == site.report
                finally:
                    await context.close()
    finally:
        await standin.aclose()
    assert [c.errcode for c in standin.calls_to("sns/oauth2/access_token")] == [0, 0]
