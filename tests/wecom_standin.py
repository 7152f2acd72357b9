"""A local stand-in for the WeCom server API and for the WeCom client app of its members.

Runs on 127.0.0.1 (a free port) and is as strict as the platform's documentation: access tokens are
checked (41001 missing, 40014 invalid, 42001 expired), text content is limited to 2,048 bytes,
button cards to 6 buttons with unique keys and a well-formed, never reused task id, a card's
response code updates it once, media ids must come from media/upload (or from a member's upload),
and a member receiving more than 30 messages a minute silently loses the rest, as on the platform.
Every call is recorded. `fail_next` makes the next call of a path answer with an error code.

On the members' side it builds real encrypted callbacks (bot/wecom/crypto.py is the platform's
scheme) and posts them to the bot's callback URL.
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
from urllib.parse import quote
from xml.sax.saxutils import escape

import httpx
import tornado.httpserver
import tornado.web

from bot.callbacks.crypto import CallbackCrypto

CORP_ID = "ww5a1b2c3d4e5f6a7b"
AGENT_ID = 1000017
SECRET = "standin-secret-0123456789abcdefghijklmnopq"
TOKEN = "standinCallbackToken2026"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
TEXT_LIMIT = 2048
TASK_ID_RE = re.compile(r"^[A-Za-z0-9_\-@]{1,128}$")


@dataclass
class Call:
    path: str
    params: dict[str, str]
    body: dict[str, Any] | None
    errcode: int


@dataclass
class Delivered:
    """What a member's WeCom client shows: one message of the app."""

    user: str
    msgtype: str
    body: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        if self.msgtype == "text":
            return str(self.body.get("content", ""))
        if self.msgtype == "template_card":
            title = self.body.get("main_title", {}).get("title", "")
            return (title + "\n" + self.body.get("sub_title_text", "")).strip()
        return ""

    @property
    def buttons(self) -> list[tuple[str, str]]:
        return [(b["text"], b["key"]) for b in self.body.get("button_list", [])]


class StandIn:
    def __init__(self) -> None:
        self.crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
        self.calls: list[Call] = []
        self.delivered: list[Delivered] = []
        self.dropped: list[Delivered] = []
        self.tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self.media: dict[str, tuple[bytes, str]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}  # task_id -> card
        self.codes: dict[str, tuple[str, str]] = {}  # response code -> (task id, user)
        self.updates: list[dict[str, Any]] = []
        self.failures: dict[str, list[int]] = {}
        # Per-member sending limit: (messages, seconds); beyond it messages are silently lost.
        self.member_limit: tuple[int, float] = (30, 60.0)
        self.callback_url = ""
        self.url = ""
        self._server: tornado.httpserver.HTTPServer | None = None
        self._http: httpx.AsyncClient | None = None
        self._msg_ids = itertools.count(7_000_000_001)
        self._nonces = itertools.count(100_000)

    # -- server ----------------------------------------------------------------------------------
    def start(self, port: int) -> None:
        app = tornado.web.Application([(r"/cgi-bin/(.+)", _Api, {"standin": self})])
        self._server = app.listen(port, "127.0.0.1")
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    async def aclose(self) -> None:
        self.stop()
        if self._http is not None:
            await self._http.aclose()

    # -- test controls ---------------------------------------------------------------------------
    def fail_next(self, path: str, errcode: int) -> None:
        self.failures.setdefault(path, []).append(errcode)

    def expire_tokens(self) -> None:
        self.tokens = dict.fromkeys(self.tokens, 0.0)

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    def inbox(self, user: str) -> list[Delivered]:
        return [d for d in self.delivered if d.user == user]

    def latest_card(self, user: str) -> Delivered:
        cards = [d for d in self.inbox(user) if d.msgtype == "template_card"]
        assert cards, "no card was delivered to " + user
        return cards[-1]

    # -- the platform's checks -----------------------------------------------------------------------
    def check_token(self, params: dict[str, str]) -> int:
        token = params.get("access_token")
        if not token:
            return 41001
        if token not in self.tokens:
            return 40014
        if self.tokens[token] <= time.monotonic():
            return 42001
        return 0

    def api(self, path: str, params: dict[str, str], body: dict[str, Any] | None, files: dict[str, Any]) -> tuple[int, Any]:
        """(errcode, result); the result is a JSON dict or (bytes, file name) for media/get."""
        if self.failures.get(path):
            return self.failures[path].pop(0), {}
        if path == "gettoken":
            if params.get("corpid") != CORP_ID or params.get("corpsecret") != SECRET:
                return 40001, {}
            token = secrets.token_urlsafe(48)
            self.tokens[token] = time.monotonic() + 7200
            return 0, {"access_token": token, "expires_in": 7200}
        code = self.check_token(params)
        if code:
            return code, {}
        if path == "message/send":
            return self._send(body or {})
        if path == "message/update_template_card":
            return self._update_card(body or {})
        if path == "media/upload":
            part = files.get("media")
            if not part or params.get("type") not in ("file", "image", "voice", "video"):
                return 40004, {}
            content, name = part[0]["body"], part[0]["filename"]
            if len(content) > 20 * 1024 * 1024 or len(content) < 5:
                return 40006, {}
            media_id = "3" + secrets.token_urlsafe(40)
            self.media[media_id] = (content, name)
            return 0, {"type": params["type"], "media_id": media_id, "created_at": str(int(time.time()))}
        if path == "media/get":
            found = self.media.get(params.get("media_id", ""))
            return (0, found) if found else (40007, {})
        return 40058, {}

    def _send(self, body: dict[str, Any]) -> tuple[int, Any]:
        if body.get("agentid") != AGENT_ID:
            return 40056, {}
        user, msgtype = body.get("touser"), body.get("msgtype")
        content = body.get(msgtype or "") or {}
        if not user or not isinstance(content, dict):
            return 40058, {}
        if msgtype in ("text", "markdown"):
            text = content.get("content") or ""
            if not text.strip():
                return 44004, {}
            if len(text.encode()) > TEXT_LIMIT:
                return 45002, {}  # the real platform cuts the text off; here it is an error the tests see
        elif msgtype == "template_card":
            code = self._check_card(content, new=True)
            if code:
                return code, {}
            self.tasks[content["task_id"]] = content
        elif msgtype in ("file", "image"):
            if content.get("media_id") not in self.media:
                return 40007, {}
        else:
            return 40008, {}
        delivered = Delivered(str(user), str(msgtype), content)
        now = time.monotonic()
        limit, seconds = self.member_limit
        recent = [d for d in self.delivered if d.user == user and d.at > now - seconds]
        if len(recent) >= limit:
            self.dropped.append(delivered)  # per-member limit: silently lost
        else:
            self.delivered.append(delivered)
        return 0, {"invaliduser": "", "msgid": f"msg{next(self._msg_ids)}"}

    def _check_card(self, card: dict[str, Any], new: bool) -> int:
        if card.get("card_type") != "button_interaction":
            return 40058
        task_id = str(card.get("task_id", ""))
        if not TASK_ID_RE.match(task_id) or (new and task_id in self.tasks):
            return 40058
        if not (card.get("main_title", {}).get("title") or card.get("sub_title_text")):
            return 40058
        buttons = card.get("button_list") or []
        keys = [b.get("key", "") for b in buttons]
        if not 1 <= len(buttons) <= 6 or len(set(keys)) != len(keys):
            return 40058
        if any(not k or len(k.encode()) > 1024 or not b.get("text") for k, b in zip(keys, buttons, strict=True)):
            return 40058
        return 0

    def _update_card(self, body: dict[str, Any]) -> tuple[int, Any]:
        found = self.codes.pop(str(body.get("response_code", "")), None)
        if found is None or body.get("agentid") != AGENT_ID:
            return 40058, {}  # unknown or already used response code
        task_id, user = found
        if body.get("userids") != [user]:
            return 40058, {}
        if "template_card" in body:
            card = body["template_card"]
            if card.get("task_id") != task_id or self._check_card(card, new=False):
                return 40058, {}
            self.tasks[task_id] = card
        elif not body.get("button", {}).get("replace_name"):
            return 40058, {}
        self.updates.append({"task_id": task_id, "user": user, **body})
        return 0, {"invaliduser": []}

    # -- the members' side -------------------------------------------------------------------------
    async def post_callback(self, inner: dict[str, str], signature_ok: bool = True) -> httpx.Response:
        """Encrypt `inner` as WeCom does and post it to the bot's callback URL."""
        xml = "<xml>" + "".join(
            f"<{k}><![CDATA[{v}]]></{k}>" if not v.isdigit() else f"<{k}>{escape(v)}</{k}>" for k, v in inner.items()
        ) + "</xml>"
        timestamp, nonce = str(int(time.time())), str(next(self._nonces))
        signature, body = self.crypto.encrypted_envelope(xml, timestamp, nonce, str(AGENT_ID))
        if not signature_ok:
            signature = "0" * 40
        params = {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}
        if self._http is None:  # one client, as the platform keeps its connections
            self._http = httpx.AsyncClient(timeout=5)
        return await self._http.post(self.callback_url, params=params, content=body)

    def _base(self, user: str, msgtype: str) -> dict[str, str]:
        return {"ToUserName": CORP_ID, "FromUserName": user, "CreateTime": str(int(time.time())), "MsgType": msgtype}

    def text_event(self, user: str, text: str, msg_id: int | None = None) -> dict[str, str]:
        return {**self._base(user, "text"), "Content": text, "MsgId": str(msg_id or next(self._msg_ids)), "AgentID": str(AGENT_ID)}

    def media_event(self, user: str, kind: str, content: bytes, name: str) -> dict[str, str]:
        media_id = "1" + secrets.token_urlsafe(30)
        self.media[media_id] = (content, name)
        return {**self._base(user, kind), "MediaId": media_id, "MsgId": str(next(self._msg_ids)), "AgentID": str(AGENT_ID)}

    def enter_event(self, user: str) -> dict[str, str]:
        return {**self._base(user, "event"), "Event": "enter_agent", "EventKey": "", "AgentID": str(AGENT_ID)}

    def click_event(self, user: str, card: Delivered, n: int) -> dict[str, str]:
        """The member presses the n-th (1-based) button of a delivered card."""
        task_id = card.body["task_id"]
        code = secrets.token_hex(16)
        self.codes[code] = (task_id, user)
        return {
            **self._base(user, "event"),
            "Event": "template_card_event",
            "EventKey": card.buttons[n - 1][1],
            "TaskId": task_id,
            "CardType": "button_interaction",
            "ResponseCode": code,
            "AgentID": str(AGENT_ID),
        }


class _Api(tornado.web.RequestHandler):
    standin: StandIn

    def initialize(self, standin: StandIn) -> None:
        self.standin = standin

    def _handle(self, path: str) -> None:
        params = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        body = None
        if self.request.body and "multipart" not in self.request.headers.get("Content-Type", ""):
            try:
                body = json.loads(self.request.body)
            except ValueError:
                body = None
        code, result = self.standin.api(path, params, body, self.request.files)
        self.standin.calls.append(Call(path, params, body, code))
        if code == 0 and path == "media/get":
            content, name = result
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}")
            self.finish(content)
            return
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        payload = {"errcode": code, "errmsg": "ok" if code == 0 else "error", **(result if code == 0 else {})}
        self.finish(json.dumps(payload))

    def get(self, path: str) -> None:
        self._handle(path)

    def post(self, path: str) -> None:
        self._handle(path)

