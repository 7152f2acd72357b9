"""Download links are single-user: a link handed to a WeChat user opens only in that user's WeChat,
proved through 网页授权 (snsapi_base) against the stand-in; anyone else holding the URL is refused
and the refusal audited; codes WeChat would refuse (replayed, unknown) are refused; a link for a
chat outside WeChat opens once."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from bot.wechat import store
from db.models import Account, AuditEntry, DownloadLink
from services import download_links
from services.accounts import ensure_local_account
from tests.wechat_harness import WeChatHarness, wechat
from tests.wechat_standin import APP_ID, NOT_IN_WECHAT, WECHAT_USER_HEADER

__all__ = ["wechat"]

PDF = b"%PDF-1.4 the report of the enterprise"


async def _issue(h: WeChatHarness, openid: str, opens: int = 2) -> download_links.IssuedLink:
    chat = await store.ptb_id_for(h.db, APP_ID, openid)
    return await download_links.issue(h.db, h.replica.settings.privacy.id_hash_key, h.web, chat, PDF, "信用报告.pdf",
                                      "application/pdf", dt.timedelta(minutes=30), opens)


async def _account(h: WeChatHarness, openid: str) -> int:
    chat = await store.ptb_id_for(h.db, APP_ID, openid)
    async with h.db.transaction() as s:
        found = await s.scalar(select(Account.id).where(Account.telegram_user_id == chat))
    assert found is not None
    return found


async def test_a_link_opens_only_in_the_wechat_of_the_user_it_was_sent_to(wechat: WeChatHarness) -> None:
    h = wechat
    owner, other = await h.user("enterprise"), await h.user("public")
    link = await _issue(h, owner)

    # Outside WeChat the 网页授权 gives no code: WeChat's own page says so, nothing is downloaded.
    outside = await h.fetch(link.url + "/file")
    assert NOT_IN_WECHAT in outside.text and str(outside.url).startswith(h.standin.url)

    # Another WeChat user who got hold of the URL is told it is not theirs.
    refused = await h.fetch(link.url + "/file", as_user=other)
    assert refused.status_code == 403 and "另一位微信用户" in refused.text and PDF not in refused.content

    # The owner: one silent 网页授权, then the landing page and the file with the proof it left.
    before = len(h.standin.calls_to("connect/oauth2/authorize"))
    async with h.browser(owner) as phone:
        landing = await phone.get(link.url)
        assert landing.status_code == 200 and "下载文件" in landing.text and str(landing.url).split("#")[0] == link.url
        got = await phone.get(link.url + "/file")
        assert got.status_code == 200 and got.content == PDF
        proof = phone.cookies.get("dl_proof")
    assert len(h.standin.calls_to("connect/oauth2/authorize")) == before + 1
    assert [c.errcode for c in h.standin.calls_to("sns/oauth2/access_token")] == [0, 0]  # other's, owner's

    # The proof is for this link and this secret only: on another link, or forged, WeChat is asked again.
    second = await _issue(h, owner)
    forged = download_links.proof_for("another secret", int(link.token.split(".")[0]), owner,
                                      dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5))
    for url, value in ((second.url, proof), (link.url + "/file", forged)):
        async with httpx.AsyncClient(timeout=5, cookies={"dl_proof": value or ""}) as bare:
            answer = await bare.get(url)
            assert answer.status_code == 302 and answer.headers["location"].startswith(h.standin.url + "/connect/oauth2/authorize?")
            assert parse_qs(urlsplit(answer.headers["location"]).query)["scope"] == ["snsapi_base"]

    async with h.db.transaction() as s:
        row = await s.scalar(select(DownloadLink).where(DownloadLink.id == int(link.token.split(".")[0])))
        entries = (await s.scalars(select(AuditEntry).where(AuditEntry.role == "link").order_by(AuditEntry.id))).all()
    assert row is not None and row.recipient == owner and row.opens_left == 1  # the refusal cost nothing
    seen = [(e.action, e.account_id, e.detail.get("why"), e.detail.get("proof")) for e in entries if e.detail["link"] == row.id]
    assert seen == [
        ("download_link_issued", await _account(h, owner), None, None),
        ("download_refused", await _account(h, other), "wrong_user", "wechat_oauth"),
        ("document_download", await _account(h, owner), None, "wechat_oauth"),
    ]
    assert all(e.detail.get("issued_to") == row.account_id for e in entries if e.detail["link"] == row.id and e.action != "download_link_issued")


async def test_codes_wechat_refuses_are_refused_and_the_state_must_match(wechat: WeChatHarness) -> None:
    h = wechat
    owner = await h.user("enterprise")
    link = await _issue(h, owner)
    headers = {WECHAT_USER_HEADER: owner}
    async with httpx.AsyncClient(timeout=5, headers=headers) as phone:  # each step by hand
        to_wechat = await phone.get(link.url)
        assert to_wechat.status_code == 302
        back = await phone.get(to_wechat.headers["location"])
        assert back.status_code == 302 and back.headers["location"].startswith(link.url + "/auth?")
        code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
        done = await phone.get(back.headers["location"])
        assert done.status_code == 303 and done.headers["location"] == f"/dl/{link.token}"
    async with httpx.AsyncClient(timeout=5, headers=headers) as thief:  # a second browser replays the code
        state = parse_qs(urlsplit((await thief.get(link.url)).headers["location"]).query)["state"][0]
        for bad_code, errcode in ((code, 40163), ("a-code-wechat-never-issued", 40029)):
            answer = await thief.get(f"{link.url}/auth", params={"code": bad_code, "state": state})
            assert answer.status_code == 403 and f"错误码 {errcode}" in answer.text and "dl_proof" not in answer.cookies
            state = parse_qs(urlsplit((await thief.get(link.url)).headers["location"]).query)["state"][0]
        wrong_state = await thief.get(f"{link.url}/auth", params={"code": "x", "state": "0" * 32})
        assert wrong_state.status_code == 403 and "授权已失效" in wrong_state.text
    assert [c.errcode for c in h.standin.calls_to("sns/oauth2/access_token")] == [0, 40163, 40029]
    # The stand-in refuses what WeChat refuses before a code is given.
    for change, words in (({"scope": "snsapi_login"}, "10005"), ({"redirect_uri": "https://evil.example/x"}, "10003"),
                          ({"appid": "wx0000000000000000"}, "该链接无法访问")):
        params = {"appid": APP_ID, "redirect_uri": link.url + "/auth", "response_type": "code", "scope": "snsapi_base",
                  "state": "abc", **change}
        page = await h.fetch(h.standin.url + "/connect/oauth2/authorize?" + str(httpx.QueryParams(params)), as_user=owner)
        assert words in page.text and "code=" not in str(page.url)


async def test_a_link_for_a_chat_outside_wechat_opens_once(wechat: WeChatHarness) -> None:
    h = wechat
    await ensure_local_account(h.db, 7_700_001, "enterprise", None, None, "测试用户")
    link = await download_links.issue(h.db, h.replica.settings.privacy.id_hash_key, h.web, 7_700_001, PDF, "a.pdf",
                                      "application/pdf", dt.timedelta(minutes=30), 3)
    first = await h.fetch(link.url + "/file")
    assert first.status_code == 200 and first.content == PDF
    again = await h.fetch(link.url + "/file")
    assert again.status_code == 410 and "下载次数已用完" in again.text


def test_a_proof_names_one_user_for_one_link_for_a_while() -> None:
    now = dt.datetime.now(dt.UTC)
    proof = download_links.proof_for("key", 5, "oAbCd0001efGhIjKlMnOpQrStUvW", now + dt.timedelta(minutes=15))
    assert download_links.read_proof("key", 5, proof, now) == "oAbCd0001efGhIjKlMnOpQrStUvW"
    assert download_links.read_proof("key", 5, proof, now + dt.timedelta(minutes=16)) is None  # expired
    assert download_links.read_proof("key", 6, proof, now) is None  # another link
    assert download_links.read_proof("other key", 5, proof, now) is None
    who, expires, mac = proof.split(".")
    for forged in (f"{who}.{int(expires) + 3600}.{mac}", f"b0F0dGFja2Vy.{expires}.{mac}", f"{who}.999999999999.{mac}",
                   "%%.1.x", "", None):
        assert download_links.read_proof("key", 5, forged, now) is None, forged
