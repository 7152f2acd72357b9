"""A local stand-in for the WeChat official account API (公众号) and for the users' WeChat.

Runs on 127.0.0.1 (a free port) and refuses what WeChat refuses:
- access tokens: missing 41001, unknown or replaced 40001, expired 42001 (`expire_tokens`,
  `invalidate_tokens`); a wrong AppSecret at cgi-bin/token 40125;
- 客服消息 (message/custom/send): only to a follower (43004 otherwise), only within 48 hours of the
  user's last message or event (45015), at most `replies_per_interaction` (20) since then (45047),
  text 1-2,048 bytes (44004 empty, 45002 too long), images only by a media_id it handed out (40007);
- template messages (message/template/send) and subscription notices (message/subscribe/bizsend):
  only a registered template with exactly its keys, "thing" values at most 20 characters, "time"
  values non-empty (47003), a link at most 1,024 bytes; bizsend only if the user accepted the
  template (43101);
- the custom menu (menu/create): 1-3 top-level buttons of at most 16 bytes, 1-5 sub-buttons of at
  most 60 bytes, click keys of at most 128 bytes, view URLs of at most 1,024 bytes (40016-40023);
- a daily quota per API (45009) when `quota` is set; `fail_next(path, errcode)` for anything else;
- 网页授权 (OAuth2): connect/oauth2/authorize (open.weixin.qq.com's part) gives a code only to a
  page opened in a user's WeChat (the request carries `WECHAT_USER_HEADER`, as WeChat's browser
  knows its user; elsewhere "请在微信客户端打开链接"), only for this AppID, scope snsapi_base or
  snsapi_userinfo (10005), response_type=code and a state of at most 128 [a-zA-Z0-9] ("该链接无法
  访问"), a redirect_uri on a 网页授权域名 (`oauth_domains`, 10003), then redirects to
  redirect_uri?code&state; sns/oauth2/access_token exchanges a code once (40163 code been used)
  within 5 minutes (40029 invalid code, as for one it never issued), with the AppSecret (40125)
  and grant_type=authorization_code (40002).
Every call is recorded. The users' side builds real security-mode callbacks (bot/callbacks/crypto.py
is the platform's scheme) and posts them to the bot's server URL; each counts as the user's
interaction, which (re)opens their 48-hour window. `clock` can be moved forward (`advance`).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit
from xml.sax.saxutils import escape

import httpx
import tornado.httpserver
import tornado.web

from bot.callbacks.crypto import CallbackCrypto, plain_signature

APP_ID = "wx5a1b2c3d4e5f6a7b"
APP_SECRET = "standin-appsecret-0123456789abcdef"
TOKEN = "standinWeChatToken2026"
AES_KEY = base64.b64encode(bytes(range(31, -1, -1))).decode().rstrip("=")
ACCOUNT = "gh_5a1b2c3d4e5f"
TEXT_LIMIT = 2048
WINDOW_SECONDS = 48 * 3600
REPLIES_PER_INTERACTION = 20
TEMPLATE_ID = "tmpl-credit-notice-0001"
TEMPLATE_KEYS = {"thing1": "thing", "time2": "time"}
LINK_RE = re.compile(r'<a href="([^"]+)">')
WECHAT_USER_HEADER = "X-Standin-WeChat-User"  # which user's WeChat browser a request comes from
OAUTH_CODE_SECONDS = 300
STATE_RE = re.compile(r"^[A-Za-z0-9]{0,128}$")
NOT_IN_WECHAT = "请在微信客户端打开链接"
CANNOT_OPEN = "该链接无法访问"


@dataclass
class Call:
    path: str
    params: dict[str, str]
    body: dict[str, Any] | None
    errcode: int


@dataclass
class Delivered:
    """What a user's WeChat shows: one message of the account."""

    openid: str
    kind: str  # text / image / template / subscribe
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        if self.kind == "text":
            return str(self.body.get("content", ""))
        if self.kind in ("template", "subscribe"):
            return " ".join(str(v.get("value", "")) for v in self.body.get("data", {}).values())
        return ""

    @property
    def links(self) -> list[str]:
        if self.kind in ("template", "subscribe"):
            return [self.body.get("url") or self.body.get("page") or ""]
        return LINK_RE.findall(self.text)

    @property
    def choices(self) -> list[str]:
        """The numbered choices at the end of a text, as labels."""
        if "回复数字选择：" not in self.text:
            return []
        tail = self.text.rsplit("回复数字选择：", 1)[1]
        return [line.split(". ", 1)[1] for line in tail.strip().splitlines() if ". " in line]


@dataclass
class OAuthCode:
    openid: str
    expires: float  # stand-in clock
    used: bool = False


@dataclass
class Follower:
    subscribed: bool = True
    last_interaction: float = 0.0
    replies: int = 0
    accepted: set[str] = field(default_factory=set)  # subscription templates the user accepted


class WeChatStandIn:
    def __init__(self) -> None:
        self.crypto = CallbackCrypto(TOKEN, AES_KEY, APP_ID)
        self.calls: list[Call] = []
        self.delivered: list[Delivered] = []
        self.tokens: dict[str, float] = {}  # token -> expiry (stand-in clock)
        self.media: dict[str, tuple[bytes, str]] = {}
        self.followers: dict[str, Follower] = {}
        self.templates: dict[str, dict[str, str]] = {TEMPLATE_ID: dict(TEMPLATE_KEYS)}
        self.menu: dict[str, Any] | None = None
        self.oauth_codes: dict[str, OAuthCode] = {}
        self.oauth_domains: set[str] = {"127.0.0.1"}  # 网页授权域名 set in the admin console
        self.failures: dict[str, list[int]] = {}
        self.quota: int | None = None  # calls per API and day
        self.replies_per_interaction = REPLIES_PER_INTERACTION
        self.offset = 0.0  # seconds the stand-in's clock is ahead
        self.callback_url = ""
        self.url = ""
        self._server: tornado.httpserver.HTTPServer | None = None
        self._http: httpx.AsyncClient | None = None
        self._msg_ids = itertools.count(24_000_000_000_000_001)
        self._nonces = itertools.count(500_000)

    # -- server and controls -------------------------------------------------------------------------
    def start(self, port: int) -> None:
        app = tornado.web.Application([
            (r"/cgi-bin/(.+)", _Api, {"standin": self}),
            (r"/(sns/.+)", _Api, {"standin": self}),
            (r"/connect/oauth2/authorize", _Authorize, {"standin": self}),
        ])
        self._server = app.listen(port, "127.0.0.1")
        self.url = f"http://127.0.0.1:{port}"

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.stop()
        if self._http is not None:
            await self._http.aclose()

    def clock(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def fail_next(self, path: str, errcode: int) -> None:
        self.failures.setdefault(path, []).append(errcode)

    def expire_tokens(self) -> None:
        self.tokens = dict.fromkeys(self.tokens, 0.0)

    def invalidate_tokens(self) -> None:
        self.tokens.clear()

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    def inbox(self, openid: str) -> list[Delivered]:
        return [d for d in self.delivered if d.openid == openid]

    # -- the platform ----------------------------------------------------------------------------------
    def _token_error(self, params: dict[str, str]) -> int:
        token = params.get("access_token")
        if not token:
            return 41001
        if token not in self.tokens:
            return 40001
        if self.tokens[token] <= self.clock():
            return 42001
        return 0

    def api(self, path: str, params: dict[str, str], body: dict[str, Any] | None, files: dict[str, Any]) -> tuple[int, Any]:
        if self.failures.get(path):
            return self.failures[path].pop(0), {}
        if path.startswith("sns/"):
            return self._sns(path, params)
        if path == "token":
            if params.get("grant_type") != "client_credential" or params.get("appid") != APP_ID:
                return 40013, {}
            if params.get("secret") != APP_SECRET:
                return 40125, {}
            token = secrets.token_urlsafe(96)
            self.tokens[token] = self.clock() + 7200
            return 0, {"access_token": token, "expires_in": 7200}
        code = self._token_error(params)
        if code:
            return code, {}
        if self.quota is not None and sum(1 for c in self.calls if c.path == path and c.errcode == 0) >= self.quota:
            return 45009, {}
        if path == "message/custom/send":
            return self._custom(body or {})
        if path in ("message/template/send", "message/subscribe/bizsend"):
            return self._notice(path, body or {})
        if path == "menu/create":
            return self._menu(body or {})
        if path == "media/upload":
            part = files.get("media")
            if not part or params.get("type") not in ("image", "voice", "video", "thumb"):
                return 40004, {}
            content = part[0]["body"]
            if not 5 <= len(content) <= 10 * 1024 * 1024:
                return 40006, {}
            media_id = secrets.token_urlsafe(48)
            self.media[media_id] = (content, part[0]["filename"])
            return 0, {"type": params["type"], "media_id": media_id, "created_at": int(self.clock())}
        if path == "media/get":
            found = self.media.get(params.get("media_id", ""))
            return (0, found) if found else (40007, {})
        return 48001, {}  # api unauthorized

    # -- 网页授权 ------------------------------------------------------------------------------------
    def authorize(self, params: dict[str, str], user: str | None) -> tuple[str | None, str]:
        """(where to redirect, None) or (None, the page WeChat shows instead)."""
        if user is None:
            return None, NOT_IN_WECHAT
        if params.get("appid") != APP_ID or params.get("response_type") != "code":
            return None, CANNOT_OPEN
        if not params.get("scope"):
            return None, "10010 scope不能为空"
        if params["scope"] not in ("snsapi_base", "snsapi_userinfo"):
            return None, "10005 此公众号并没有这些scope的权限"
        if not STATE_RE.match(params.get("state", "")):
            return None, CANNOT_OPEN
        target = urlsplit(params.get("redirect_uri", ""))
        if not target.scheme or target.hostname not in self.oauth_domains:
            return None, "10003 redirect_uri域名与后台配置不一致"
        code = secrets.token_urlsafe(24)
        self.oauth_codes[code] = OAuthCode(user, self.clock() + OAUTH_CODE_SECONDS)
        query = urlencode([*parse_qsl(target.query), ("code", code), ("state", params.get("state", ""))])
        return urlunsplit((target.scheme, target.netloc, target.path, query, "")), ""

    def _sns(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        if path != "sns/oauth2/access_token":
            return 48001, {}
        if params.get("appid") != APP_ID:
            return 40013, {}
        if params.get("secret") != APP_SECRET:
            return 40125, {}
        if params.get("grant_type") != "authorization_code":
            return 40002, {}
        found = self.oauth_codes.get(params.get("code", ""))
        if found is None or found.expires <= self.clock():
            return 40029, {}
        if found.used:
            return 40163, {}
        found.used = True
        return 0, {"access_token": secrets.token_urlsafe(64), "expires_in": 7200,
                   "refresh_token": secrets.token_urlsafe(64), "openid": found.openid, "scope": "snsapi_base"}

    def _custom(self, body: dict[str, Any]) -> tuple[int, Any]:
        openid, msgtype = str(body.get("touser", "")), body.get("msgtype")
        follower = self.followers.get(openid)
        if follower is None or not follower.subscribed:
            return 43004, {}
        if self.clock() - follower.last_interaction > WINDOW_SECONDS:
            return 45015, {}
        if follower.replies >= self.replies_per_interaction:
            return 45047, {}
        content = body.get(msgtype or "") or {}
        if msgtype == "text":
            text = str(content.get("content") or "")
            if not text.strip():
                return 44004, {}
            if len(text.encode()) > TEXT_LIMIT:
                return 45002, {}
        elif msgtype == "image":
            if content.get("media_id") not in self.media:
                return 40007, {}
        else:
            return 40008, {}
        follower.replies += 1
        self.delivered.append(Delivered(openid, str(msgtype), content))
        return 0, {}

    def _notice(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        openid, template = str(body.get("touser", "")), str(body.get("template_id", ""))
        follower = self.followers.get(openid)
        if follower is None or not follower.subscribed:
            return 43004, {}
        keys = self.templates.get(template)
        if keys is None:
            return 40037, {}  # invalid template_id
        subscribe = path.endswith("bizsend")
        if subscribe and template not in follower.accepted:
            return 43101, {}
        link = str(body.get("page" if subscribe else "url") or "")
        if len(link.encode()) > 1024:
            return 47003, {}
        data = body.get("data") or {}
        if not isinstance(data, dict) or set(data) != set(keys):
            return 47003, {}
        for key, kind in keys.items():
            value = str((data[key] or {}).get("value", ""))
            if not value or (kind == "thing" and len(value) > 20):
                return 47003, {}
        self.delivered.append(Delivered(openid, "subscribe" if subscribe else "template", body))
        return 0, {"msgid": next(self._msg_ids)}

    @staticmethod
    def _menu_error(menu: dict[str, Any]) -> int:
        buttons = menu.get("button") or []
        if not 1 <= len(buttons) <= 3:
            return 40016
        for top in buttons:
            if not 1 <= len(str(top.get("name", "")).encode()) <= 16:
                return 40018
            subs = top.get("sub_button")
            items = subs if subs else [top]
            if subs is not None and not 1 <= len(subs) <= 5:
                return 40023
            for item in items:
                if item is not top and not 1 <= len(str(item.get("name", "")).encode()) <= 60:
                    return 40018
                kind = item.get("type")
                if kind == "click" and not 1 <= len(str(item.get("key", "")).encode()) <= 128:
                    return 40019
                if kind == "view" and not 1 <= len(str(item.get("url", "")).encode()) <= 1024:
                    return 40022
                if kind not in ("click", "view"):
                    return 40017
        return 0

    def _menu(self, body: dict[str, Any]) -> tuple[int, Any]:
        code = self._menu_error(body)
        if code == 0:
            self.menu = body
        return code, {}

    # -- the users' side ---------------------------------------------------------------------------
    def follow(self, openid: str) -> None:
        self.followers.setdefault(openid, Follower())

    async def post_callback(self, inner: dict[str, str], signature_ok: bool = True) -> httpx.Response:
        """Encrypt `inner` as WeChat does in security mode and post it to the bot's server URL; the
        user's message (or event) opens their 48-hour window."""
        follower = self.followers.setdefault(inner["FromUserName"], Follower())
        follower.last_interaction, follower.replies = self.clock(), 0
        xml = "<xml>" + "".join(
            f"<{k}><![CDATA[{v}]]></{k}>" if not v.isdigit() else f"<{k}>{escape(v)}</{k}>" for k, v in inner.items()
        ) + "</xml>"
        timestamp, nonce = str(int(time.time())), str(next(self._nonces))
        msg_signature, body = self.crypto.encrypted_envelope(xml, timestamp, nonce)
        if not signature_ok:
            msg_signature = "0" * 40
        params = {
            "signature": plain_signature(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
            "openid": inner["FromUserName"], "encrypt_type": "aes", "msg_signature": msg_signature,
        }
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5)
        return await self._http.post(self.callback_url, params=params, content=body)

    def _base(self, openid: str, msgtype: str) -> dict[str, str]:
        return {"ToUserName": ACCOUNT, "FromUserName": openid, "CreateTime": str(int(self.clock())), "MsgType": msgtype}

    def text_event(self, openid: str, text: str, msg_id: int | None = None) -> dict[str, str]:
        return {**self._base(openid, "text"), "Content": text, "MsgId": str(msg_id or next(self._msg_ids))}

    def image_event(self, openid: str, content: bytes) -> dict[str, str]:
        media_id = secrets.token_urlsafe(40)
        self.media[media_id] = (content, "photo.jpg")
        return {**self._base(openid, "image"), "PicUrl": "http://mmbiz.example/pic", "MediaId": media_id,
                "MsgId": str(next(self._msg_ids))}

    def voice_event(self, openid: str) -> dict[str, str]:
        return {**self._base(openid, "voice"), "MediaId": secrets.token_urlsafe(20), "Format": "amr",
                "MsgId": str(next(self._msg_ids))}

    def event(self, openid: str, event: str, key: str = "") -> dict[str, str]:
        return {**self._base(openid, "event"), "Event": event, "EventKey": key}


class _Api(tornado.web.RequestHandler):
    standin: WeChatStandIn

    def initialize(self, standin: WeChatStandIn) -> None:
        self.standin = standin

    def _handle(self, path: str) -> None:
        params = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        body = None
        if self.request.body and "multipart" not in self.request.headers.get("Content-Type", ""):
            try:
                body = json.loads(self.request.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                body = None
        code, result = self.standin.api(path, params, body, self.request.files)
        self.standin.calls.append(Call(path, params, body, code))
        if code == 0 and path == "media/get":
            content, name = result
            self.set_header("Content-Type", "image/jpeg")
            self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}")
            self.finish(content)
            return
        self.set_header("Content-Type", "application/json; charset=utf-8")
        payload = {"errcode": code, "errmsg": "ok" if code == 0 else "error", **(result if code == 0 else {})}
        self.finish(json.dumps(payload, ensure_ascii=False))

    def get(self, path: str) -> None:
        self._handle(path)

    def post(self, path: str) -> None:
        self._handle(path)


class _Authorize(tornado.web.RequestHandler):
    """open.weixin.qq.com/connect/oauth2/authorize: what the user's WeChat does with the page."""

    standin: WeChatStandIn

    def initialize(self, standin: WeChatStandIn) -> None:
        self.standin = standin

    def get(self) -> None:
        params = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        target, error = self.standin.authorize(params, self.request.headers.get(WECHAT_USER_HEADER))
        self.standin.calls.append(Call("connect/oauth2/authorize", params, None, 0 if target else -1))
        if target:
            self.redirect(target, status=302)
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(f"<!doctype html><html><body><p>{escape(error)}</p></body></html>")
