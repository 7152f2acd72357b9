"""The Bot API, translated into WeChat official account calls: the handlers talk Telegram, WeChat
users see 客服消息 (customer service messages).

A `telegram.request.BaseRequest`, like the WeCom channel's (bot/wecom/transport.py):
- sendMessage → text message(s), cut at the 客服消息 text limit (2,048 UTF-8 bytes, `TEXT_LIMIT_BYTES`);
  an inline keyboard → numbered choices under the text ("回复数字选择：1 …"), and URL buttons → links;
  the choices are stored (bot/wechat/store.py), so a reply "2" becomes the press of the second button;
- editMessageText → the new text as a new message (WeChat cannot edit one; a change of numbers only,
  a progress counter, at most every 30 s), with its choices;
- sendDocument → a download link (services/download_links.py): the 客服消息 API sends no files; the
  link opens only for this user, proved by WeChat's 网页授权 (bot/web/downloads.py);
- sendPhoto → media/upload + image message; getFile + download → media/get of what a user sent;
- answerCallbackQuery and the like → nothing (WeChat has no such thing); getMe is answered locally.
Outside the 48-hour window (45015) or past the replies allowed since the user last wrote (45047) a
text goes out as a template message / subscription notice with a link to read it, when a template is
configured (`wechat.notice_template_id`); else the platform's refusal stands.
Errors reach PTB as Bot API errors with Telegram's statuses (bot/callbacks/botapi.py): transient → 502
(NetworkError: the outbox retries), unreachable → 403 (Forbidden: refused for good), other → 400.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from bot.callbacks.botapi import ChannelBotAPI
from bot.wechat import store
from bot.wechat.api import (
    OUT_OF_WINDOW,
    TOO_MANY_REPLIES,
    TRANSIENT_ERRORS,
    UNREACHABLE_ERRORS,
    WeChatClient,
    WeChatError,
)
from bot.wecom import store as sent_messages
from bot.wecom.limits import split_bytes
from services import download_links

log = logging.getLogger(__name__)

FILE_PREFIX = "wechat-"
# The 客服消息 text limit: WeChat refuses longer content with 45002 "content size out of limit". Its
# documentation gives no figure; the platform's answer, measured and reported on WeChat's developer
# forum and by SDKs that split at it, is 2,048 bytes of UTF-8 (the passive reply's limit is 2,047).
TEXT_LIMIT_BYTES = 2048
CHOICES_HEAD = "回复数字选择："
NOTICE_TITLE = "信用通知"
NOTICE_TITLE_CHARS = 20  # a template's "thing" value: at most 20 characters are shown
_TITLE = re.compile(r"^\s*【([^】]{1,20})】")


def keyboard_of(params: dict[str, Any]) -> tuple[dict[str, Any] | None, list[tuple[str, str]], list[tuple[str, str]]]:
    """(the markup, [(label, callback data)], [(label, url)]) of an inline keyboard, row by row."""
    markup = params.get("reply_markup")
    if isinstance(markup, str):
        markup = json.loads(markup)
    if not isinstance(markup, dict) or not markup.get("inline_keyboard"):
        return None, [], []
    presses: list[tuple[str, str]] = []
    links: list[tuple[str, str]] = []
    for row in markup["inline_keyboard"]:
        for button in row:
            if button.get("url"):
                links.append((button["text"], button["url"]))
            elif button.get("callback_data"):
                presses.append((button["text"], button["callback_data"]))
    return markup, presses, links


def render(text: str, presses: list[tuple[str, str]], links: list[tuple[str, str]]) -> list[str]:
    """The pieces to send: the text cut at the byte limit, the numbered choices and links after it
    (in the last piece when they fit, else in a piece of their own)."""
    lines = [f'<a href="{url}">{label}</a>' for label, url in links]
    if presses:
        lines.append(CHOICES_HEAD)
        lines.extend(f"{n}. {label}" for n, (label, _data) in enumerate(presses, 1))
    pieces = split_bytes(text, TEXT_LIMIT_BYTES)
    if not lines:
        return pieces
    tail = "\n".join(lines)
    if pieces and len((pieces[-1] + "\n\n" + tail).encode()) <= TEXT_LIMIT_BYTES:
        pieces[-1] = pieces[-1] + "\n\n" + tail
    else:
        pieces.extend(split_bytes(tail, TEXT_LIMIT_BYTES))
    return pieces


def notice_title(text: str) -> str:
    """A short title for a template message: the text's leading 【…】 or a general one. Nothing else
    of the text goes into the template (it shows on the lock screen); the link shows the rest."""
    found = _TITLE.match(text)
    return (found.group(1) if found else NOTICE_TITLE)[:NOTICE_TITLE_CHARS]


@dataclass(frozen=True)
class LinkSettings:
    """What the transport needs to hand out links and notices (from `[web]`, `[wechat]`, `[region]`)."""

    secret: str
    public_url: str
    download_minutes: int = 30
    download_opens: int = 3
    notice_link_hours: int = 72
    notice_kind: str = "template"
    notice_template_id: str = ""
    notice_title_key: str = "thing1"
    notice_time_key: str = "time2"
    timezone: dt.tzinfo = dt.UTC


class WeChatBotAPI(ChannelBotAPI):
    """Answers the Bot API by calling WeChat for the user a chat id stands for."""

    prefix = FILE_PREFIX
    error = WeChatError
    transient_errors = TRANSIENT_ERRORS
    unreachable_errors = UNREACHABLE_ERRORS

    def __init__(self, client: WeChatClient, links: LinkSettings) -> None:
        super().__init__(client.db)
        self.client = client
        self.links = links
        self._media: collections.OrderedDict[str, bytes] = collections.OrderedDict()

    async def lookup_user(self, ptb_id: int) -> str | None:
        return await store.openid_of(self.db, ptb_id)

    async def file_content(self, media_id: str) -> bytes:
        return await self.fetch_media(media_id)

    async def fetch_media(self, media_id: str) -> bytes:
        if media_id not in self._media:
            self._media[media_id], _name = await self.client.media(media_id)
            while len(self._media) > 32:
                self._media.popitem(last=False)
        return self._media[media_id]

    async def _deliver(self, chat_id: int, openid: str, pieces: list[str]) -> None:
        """Send the pieces as 客服消息; once the window is closed, the rest as a notice with a link."""
        for i, piece in enumerate(pieces):
            try:
                await self.client.send(openid, "text", {"content": piece})
            except WeChatError as exc:
                if exc.errcode not in (OUT_OF_WINDOW, TOO_MANY_REPLIES) or not self.links.notice_template_id:
                    raise
                await self._notice(chat_id, openid, "\n".join(pieces[i:]))
                return

    async def _notice(self, chat_id: int, openid: str, text: str) -> None:
        link = await download_links.issue(
            self.db, self.links.secret, self.links.public_url, chat_id, text.encode(), "通知.txt",
            "text/plain; charset=utf-8", dt.timedelta(hours=self.links.notice_link_hours), self.links.download_opens,
        )
        now = dt.datetime.now(self.links.timezone)
        data = {
            self.links.notice_title_key: notice_title(text),
            self.links.notice_time_key: f"{now:%Y年%m月%d日 %H:%M}",
        }
        await self.client.send_notice(openid, self.links.notice_kind, self.links.notice_template_id, link.url, data)
        log.info("wechat: outside the 客服消息 window, sent as a %s notice with a link", self.links.notice_kind)

    async def _send_text(self, chat_id: int, params: dict[str, Any], message: dict[str, Any] | None = None) -> dict[str, Any]:
        openid = await self.user_of(chat_id)
        markup, presses, links = keyboard_of(params)
        extra: dict[str, Any] = {"text": params["text"]}
        if markup is not None:
            extra["reply_markup"] = markup
        if message is None:
            message = await sent_messages.save_message(self.db, chat_id, self._message(chat_id, extra))
        await store.set_choices(self.db, chat_id, message["message_id"], presses)
        await self._deliver(chat_id, openid, render(params["text"], presses, links))
        return message

    # -- Bot API methods -------------------------------------------------------------------------
    async def _api_sendMessage(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        return await self._send_text(int(params["chat_id"]), params)

    async def _api_editMessageText(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        message = await sent_messages.load_message(self.db, chat_id, message_id) or self._message(chat_id, {"message_id": message_id})
        markup, presses, _links = keyboard_of(params)
        text = params["text"]
        counter = self.counter_only(chat_id, message_id, str(message.get("text", "")), text) and not presses
        message = {**message, "text": text, "edit_date": int(time.time())}
        if markup is not None:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        await sent_messages.replace_message(self.db, chat_id, message_id, message)
        if counter:
            return message
        return await self._send_text(chat_id, params, message)

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        message = await sent_messages.load_message(self.db, chat_id, message_id) or self._message(chat_id, {"message_id": message_id})
        markup, presses, links = keyboard_of(params)
        if markup is None:
            message.pop("reply_markup", None)
            await store.clear_choices_of(self.db, chat_id, message_id)
        else:
            message["reply_markup"] = markup
            await store.set_choices(self.db, chat_id, message_id, presses)
            await self._deliver(chat_id, await self.user_of(chat_id), render("", presses, links))
        await sent_messages.replace_message(self.db, chat_id, message_id, message)
        return message

    async def _api_sendDocument(self, params: dict[str, Any], uploads: dict[str, Any]) -> dict[str, Any]:
        """A file becomes a link: WeChat's 客服消息 cannot carry one."""
        chat_id = int(params["chat_id"])
        openid = await self.user_of(chat_id)
        if not uploads:
            raise WeChatError(40007, "sendDocument (only new files can be linked)")
        name, content = self.uploaded(uploads, "document.pdf")
        media_type = "application/pdf" if name.lower().endswith(".pdf") else "application/octet-stream"
        link = await download_links.issue(
            self.db, self.links.secret, self.links.public_url, chat_id, content, name, media_type,
            dt.timedelta(minutes=self.links.download_minutes), self.links.download_opens,
        )
        expires = link.expires_at.astimezone(self.links.timezone)
        text = "\n".join(filter(None, [
            params.get("caption") or "",
            f'文件：<a href="{link.url}">{name}</a>',
            f"请在 {expires:%H:%M} 前打开下载（仅供本人使用，最多下载 {self.links.download_opens} 次）。",
        ]))
        await self._deliver(chat_id, openid, split_bytes(text, TEXT_LIMIT_BYTES))
        unique = hashlib.sha256(content).hexdigest()[:16]
        extra: dict[str, Any] = {"document": {"file_id": f"link-{unique}", "file_unique_id": unique,
                                              "file_name": name, "file_size": len(content)}}
        if params.get("caption"):
            extra["caption"] = params["caption"]
        return await sent_messages.save_message(self.db, chat_id, self._message(chat_id, extra))

    async def _api_sendPhoto(self, params: dict[str, Any], uploads: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        openid = await self.user_of(chat_id)
        if uploads:
            name, content = self.uploaded(uploads, "image.png")
            media_id = await self.client.upload("image", name, content)
        else:
            media_id = self.media_id_of(str(params.get("photo", ""))) or ""
            if not media_id:
                raise WeChatError(40007, "sendPhoto (file not from this channel)")
        if params.get("caption"):
            await self._deliver(chat_id, openid, split_bytes(params["caption"], TEXT_LIMIT_BYTES))
        await self.client.send(openid, "image", {"media_id": media_id})
        unique = hashlib.sha256(media_id.encode()).hexdigest()[:16]
        extra: dict[str, Any] = {"photo": [{"file_id": self.media_file_id(media_id), "file_unique_id": unique, "width": 0, "height": 0}]}
        return await sent_messages.save_message(self.db, chat_id, self._message(chat_id, extra))

    async def _api_getFile(self, params: dict[str, Any], uploads: Any) -> dict[str, Any]:
        file_id = str(params["file_id"])
        media_id = self.media_id_of(file_id)
        if media_id is None:
            raise WeChatError(40007, "getFile (file not from this channel)")
        content = await self.fetch_media(media_id)
        return {"file_id": file_id, "file_unique_id": hashlib.sha256(media_id.encode()).hexdigest()[:16],
                "file_size": len(content), "file_path": file_id}


media_file_id = WeChatBotAPI.media_file_id
