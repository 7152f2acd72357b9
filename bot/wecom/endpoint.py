"""The callback URL of the WeCom app (回调 URL), on the shared callback pieces (bot/callbacks/).

GET  ?msg_signature&timestamp&nonce&echostr  URL verification: signature checked, echostr decrypted
                                            and returned as plain text (WeCom wants it within 1 s).
POST ?msg_signature&timestamp&nonce  <xml>   a message or event: signature, corp id and timestamp
                                            (replay window) checked, stored in the inbox, then an
                                            empty 200; the inbox worker handles it.

WeCom retries an unanswered callback three times; a retry (or a slow first delivery) finds the
callback stored already — by MsgId, or by user + event + time for events — on any replica, and is
acknowledged without being handled again.
"""

from __future__ import annotations

from telegram import Update

from bot.callbacks.endpoint import CallbackChannel, Query
from bot.callbacks.inbox import Event
from bot.wecom import store
from bot.wecom.inbound import UNSUPPORTED_ANSWER, UNSUPPORTED_KINDS, dedupe_key, update_from_event
from bot.wecom.transport import WeComBotAPI


class WeComChannel(CallbackChannel):
    """Inbound side of one WeCom app on one Application."""

    name = "wecom"
    transport: WeComBotAPI

    def verify_url(self, query: Query) -> str:
        return self.crypto.verify_url(query("msg_signature"), query("timestamp"), query("nonce"), query("echostr"))

    def open_callback(self, query: Query, body: bytes) -> dict[str, str]:
        fields = self.crypto.decrypt_callback(query("msg_signature"), query("timestamp"), query("nonce"), body)
        self.check_window(query("timestamp"))
        return fields

    def dedupe_key(self, fields: dict[str, str]) -> str:
        return dedupe_key(fields)

    async def to_update(self, event: Event) -> Update | None:
        fields = event.fields
        update = await update_from_event(fields, event.id, self.crypto.receive_id, self.transport, self.app.bot)
        if update is None and fields.get("MsgType") in UNSUPPORTED_KINDS and event.member:
            ptb_id = await store.ptb_id_for(self.db, self.crypto.receive_id, event.member)
            self.transport.remember(ptb_id, event.member)
            await self.app.bot.send_message(ptb_id, UNSUPPORTED_ANSWER)
        return update
