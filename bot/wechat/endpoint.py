"""The 服务号's server URL (服务器地址) in security mode, on the shared callback pieces (bot/callbacks/).

GET  ?signature&timestamp&nonce&echostr   the URL check when the admin saves the server settings:
                                          SHA1 of the sorted token, timestamp and nonce; echostr is
                                          answered as it is (WeChat's check is not encrypted).
POST ?signature&timestamp&nonce&openid&encrypt_type=aes&msg_signature  <xml><Encrypt>…
                                          a message or event: msg_signature, AppID (the receive id)
                                          and timestamp (replay window) checked, stored in the inbox,
                                          then "success"; the inbox worker handles it and answers
                                          through the 客服消息 API, never by the passive reply WeChat
                                          would wait 5 s for.
Plain-text mode (no encrypt_type=aes) is refused: the account must be in security mode (安全模式).
"""

from __future__ import annotations

import hmac

from telegram import Update

from bot.callbacks.crypto import plain_signature
from bot.callbacks.endpoint import CallbackChannel, Query
from bot.callbacks.inbox import Event
from bot.callbacks.safexml import CallbackRefused
from bot.wechat.inbound import UNSUPPORTED_ANSWER, UNSUPPORTED_KINDS, dedupe_key, update_from_event
from bot.wechat.transport import WeChatBotAPI


class WeChatChannel(CallbackChannel):
    """Inbound side of one official account on one Application."""

    name = "wechat"
    ack = "success"
    transport: WeChatBotAPI

    def _check_plain(self, query: Query) -> None:
        expected = plain_signature(self.crypto.token, query("timestamp"), query("nonce"))
        if not hmac.compare_digest(expected, query("signature").lower()):
            raise CallbackRefused("bad signature")

    def verify_url(self, query: Query) -> str:
        self._check_plain(query)
        self.check_window(query("timestamp"))
        return query("echostr")

    def open_callback(self, query: Query, body: bytes) -> dict[str, str]:
        if query("encrypt_type") != "aes":
            raise CallbackRefused("not in security mode (encrypt_type=aes expected)")
        fields = self.crypto.decrypt_callback(query("msg_signature"), query("timestamp"), query("nonce"), body)
        self.check_window(query("timestamp"))
        return fields

    def dedupe_key(self, fields: dict[str, str]) -> str:
        return dedupe_key(fields)

    async def to_update(self, event: Event) -> Update | None:
        fields = event.fields
        update = await update_from_event(fields, event.id, self.crypto.receive_id, self.transport, self.app.bot)
        if update is None and fields.get("MsgType") in UNSUPPORTED_KINDS and event.member:
            ptb_id = self.transport.known_ids.get(event.member)
            if ptb_id is not None:
                await self.app.bot.send_message(ptb_id, UNSUPPORTED_ANSWER)
        return update
