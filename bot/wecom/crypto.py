"""WeCom callback encryption (企业微信 回调加解密), by `cryptography` and `defusedxml`.

The scheme, from WeCom's callback documentation (加解密方案说明):
- signature = SHA1 of the lexicographically sorted strings token, timestamp, nonce, ciphertext;
- AES-256-CBC, key = base64(EncodingAESKey + "="), IV = the first 16 key bytes, PKCS#7 padding
  to a multiple of 32 bytes (not AES's 16);
- plaintext = 16 random bytes + 4-byte big-endian length + message + receive id (the corp id for a
  self-built app).

Checked against the fixed sample values published with WeCom's own sample code (tests/test_wecom_crypto.py),
not only by a round trip through this module.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException

BLOCK = 32  # WeCom pads to 32 bytes


class CallbackRefused(Exception):
    """A callback that must not be processed. `reason` is a short English tag for the log; the
    request's content is never put into the message, so it can be logged as it is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """SHA1 hex digest over the sorted, concatenated strings (msg_signature)."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode()).hexdigest()


def parse_xml(body: bytes | str) -> Element:
    """Parse XML refusing DTDs, entities and external references (billion laughs, XXE)."""
    try:
        return SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SafeET.ParseError):
        raise CallbackRefused("malformed or unsafe xml") from None


def xml_fields(root: Element) -> dict[str, str]:
    """The flat child elements of a WeCom XML message as {tag: text}."""
    return {child.tag: (child.text or "") for child in root}


@dataclass(frozen=True)
class WeComCrypto:
    """One app's callback credentials: Token, EncodingAESKey (43 characters) and the receive id."""

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
            raise CallbackRefused("ciphertext is not base64") from None
        if not raw or len(raw) % 16:
            raise CallbackRefused("ciphertext length")
        decryptor = self._cipher().decryptor()
        padded = decryptor.update(raw) + decryptor.finalize()
        pad = padded[-1]
        if not 1 <= pad <= BLOCK or padded[-pad:] != bytes([pad]) * pad:
            raise CallbackRefused("bad padding")
        plain = padded[:-pad]
        if len(plain) < 20:
            raise CallbackRefused("plaintext too short")
        (length,) = struct.unpack(">I", plain[16:20])
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if len(message) != length:
            raise CallbackRefused("length field")
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
            raise CallbackRefused("no Encrypt element")
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

    def encrypted_envelope(self, inner_xml: str, timestamp: str, nonce: str, agent_id: str) -> tuple[str, bytes]:
        """(msg_signature, POST body) as WeCom would post `inner_xml` to the callback URL."""
        encrypted = self.encrypt(inner_xml.encode())
        body = (
            f"<xml><ToUserName><![CDATA[{self.receive_id}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[{agent_id}]]></AgentID></xml>"
        )
        return signature(self.token, timestamp, nonce, encrypted), body.encode()
