"""The XML of WeCom and WeChat callbacks, parsed so that no body can do harm or cause a 500.

Both platforms post small UTF-8 documents with the root `<xml>` and flat children. Anything else is
refused with a `CallbackRefused` carrying the HTTP status to answer (400 for a body that is not such a
document, 403 for one that fails a check) and a short English reason for the log line:
- a declared encoding other than UTF-8 (`encoding="gbk"`: expat cannot decode multi-byte codecs and
  raised a ValueError the endpoint turned into a 500), or bytes that are not UTF-8;
- a DTD, entity declarations or external references (billion laughs, XXE): defusedxml refuses them;
- an unexpected root element, or no XML at all.
The request's content is never put into the reason, so the reason can be logged as it is.
"""

from __future__ import annotations

import codecs
import re
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET

ROOT = "xml"
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([^\"']{1,40})[\"']", re.IGNORECASE)
_UTF8_NAMES = frozenset({"utf-8", "utf8"})


class CallbackRefused(Exception):
    """A callback that must not be processed: answer `status`, log `reason` (no request content)."""

    def __init__(self, reason: str, status: int = 403) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def parse_xml(body: bytes | str) -> Element:
    """The root element of a callback document; raises CallbackRefused (400) for anything else."""
    raw = body.encode() if isinstance(body, str) else bytes(body)
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    declared = _DECLARED_ENCODING.match(raw)
    if declared is not None and declared.group(1).decode("ascii", "replace").strip().lower() not in _UTF8_NAMES:
        raise CallbackRefused("xml declares an encoding other than utf-8", 400)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CallbackRefused("body is not utf-8", 400) from None
    try:
        root = SafeET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except Exception:  # ParseError, DefusedXmlException, ValueError, LookupError: all the same to us
        raise CallbackRefused("malformed or unsafe xml", 400) from None
    if root.tag != ROOT:
        raise CallbackRefused("unexpected root element", 400)
    return root


def xml_fields(root: Element) -> dict[str, str]:
    """The flat child elements of a callback document as {tag: text}."""
    return {child.tag: (child.text or "") for child in root}
