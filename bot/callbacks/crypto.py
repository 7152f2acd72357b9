"""Callback encryption of WeCom (企业微信 回调加解密) and WeChat official accounts (安全模式): one scheme,
WXBizMsgCrypt, by `cryptography`; the XML is read by bot/callbacks/safexml.py.

The scheme, from WeCom's callback documentation (加解密方案说明) and the WeChat official account's
message encryption guide (消息加解密说明), which differ only in the receive id:
- signature = SHA1 of the lexicographically sorted strings token, timestamp, nonce, ciphertext;
- AES-256-CBC, key = base64(EncodingAESKey + "="), IV = the first 16 key bytes, PKCS#7 padding
  to a multiple of 32 bytes (not AES's 16);
- plaintext = 16 random bytes + 4-byte big-endian length + message + receive id (the corp id for a
  WeCom self-built app, the AppID for an official account).
A WeChat official account's URL check (GET) is signed without ciphertext (`plain_signature`) and its
echostr comes back as it is.

Checked against the fixed sample values published with WeCom's and WeChat's own sample code
(tests/test_wecom_crypto.py, tests/test_wechat_crypto.py), not only by a round trip through this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.callbacks.safexml import CallbackRefused, parse_xml, xml_fields

BLOCK = 32  # WeCom pads to 32 bytes


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """SHA1 hex digest over the sorted, concatenated strings (msg_signature)."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def plain_signature(token: str, timestamp: str, nonce: str) -> str:
    """SHA1 hex digest over the sorted token, timestamp and nonce (an official account's `signature`)."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def check_timestamp(timestamp: str, window_seconds: int, now: float | None = None) -> None:
    """Refuse a callback whose (signed) timestamp is more than `window_seconds` from now, either way:
    a captured callback cannot be replayed once it is older than the window."""
    now = time.time() if now is None else now
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise CallbackRefused("timestamp is not a number", 400)
    if abs(now - int(timestamp)) > window_seconds:
        raise CallbackRefused("timestamp outside the replay window")


@dataclass(frozen=True)
class CallbackCrypto:
    """One app's callback credentials: Token, EncodingAESKey (43 characters) and the receive id (a
    WeCom corp id, or an official account's AppID)."""

    token: str
    encoding_aes_key: str
    receive_id: str

    @property
    def key(self) -> bytes:
        try:
            key = base64.b64decode(self.encoding_aes_key + "=", validate=True)
        except binascii.Error:
            raise ValueError("EncodingAESKey is not valid base64") from None
        if len(key) != 32:
            raise ValueError("EncodingAESKey must decode to 32 bytes")
        return key

    def _cipher(self) -> Cipher[modes.CBC]:
        key = self.key
        return Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    # -- verification ------------------------------------------------------------------------------
    def check_signature(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        """Raises CallbackRefused when the signature does not match (constant-time compare)."""
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, (msg_signature or "").lower()):
            raise CallbackRefused("bad signature")

    # -- decryption --------------------------------------------------------------------------------
    def decrypt(self, encrypted: str) -> bytes:
        """The message bytes inside `encrypted`; raises CallbackRefused for a wrong receive id or
        anything that does not decrypt to the documented layout."""
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except binascii.Error:
            raise CallbackRefused("ciphertext is not base64", 400) from None
        if not raw or len(raw) % 16:
            raise CallbackRefused("ciphertext length", 400)
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        pad = padded[-1]
        if not 1 <= pad <= BLOCK or padded[-pad:] != bytes([pad]) * pad:
            raise CallbackRefused("bad padding", 400)
        plain = padded[:-pad]
        if len(plain) < 20:
            raise CallbackRefused("plaintext too short", 400)
        (length,) = struct.unpack(">I", plain[16:20])
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length:
            raise CallbackRefused("length field", 400)
        if not hmac.compare_digest(receive_id, self.receive_id.encode()):
            raise CallbackRefused("receive id mismatch")
        return message

    def verify_url(self, msg_signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """URL verification (GET): check the signature, return the decrypted echostr to answer with."""
        self.check_signature(msg_signature, timestamp, nonce, echostr)
        return self.decrypt(echostr).decode()

    def decrypt_callback(self, msg_signature: str, timestamp: str, nonce: str, body: bytes) -> dict[str, str]:
        """A message callback (POST): the outer XML's <Encrypt> checked and decrypted, the inner XML
        parsed safely into {tag: text} (ToUserName, FromUserName, MsgType, Content, MsgId, ...)."""
        outer = xml_fields(parse_xml(body))
        encrypted = outer.get("Encrypt")
        if not encrypted:
            raise CallbackRefused("no Encrypt element", 400)
        self.check_signature(msg_signature, timestamp, nonce, encrypted)
        return xml_fields(parse_xml(self.decrypt(encrypted)))

    # -- encryption (the stand-in platform in the tests, passive replies) -------------------------
    def encrypt(self, message: bytes, random16: bytes | None = None) -> str:
        random16 = os.urandom(16) if random16 is None else random16
        plain = random16 + struct.pack(">I", len(message)) + message + self.receive_id.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def encrypted_envelope(
        self, inner_xml: str, timestamp: str, nonce: str, agent_id: str | None = None
    ) -> tuple[str, bytes]:
        """(msg_signature, POST body) as the platform would post `inner_xml` to the callback URL
        (WeCom names its app's AgentID in the envelope, WeChat nothing more)."""
        encrypted = self.encrypt(inner_xml.encode())
        agent = f"<AgentID><![CDATA[{agent_id}]]></AgentID>" if agent_id is not None else ""
        body = (
            f"<xml><ToUserName><![CDATA[{self.receive_id}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt>{agent}</xml>"
        )
        return signature(self.token, timestamp, nonce, encrypted), body.encode()
