"""WeCom callback crypto against the fixed values published with WeCom's own callback sample code."""

from __future__ import annotations

import pytest

from bot.callbacks.crypto import CallbackCrypto, CallbackRefused, parse_xml, signature

# Published sample: token, EncodingAESKey and corp id of the sample app, a URL-verification request
# and an encrypted text message, each with its signature.
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP_ID = "ww1436e0e65a779aee"
VERIFY = {
    "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
    "timestamp": "1476416373",
    "nonce": "47744683",
    "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
}
MESSAGE_SIG = ("0c3914025cb4b4d68103f6bfc8db550f79dcf48e", "1476422779", "1597212914")
MESSAGE_BODY = (
    b"<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA["
    b"Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGzBhzTtRLNshw2AEew"
    b"+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24Yhm"
    b"ZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwo"
    b"cugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuPDGOCI8jmnKiypE+]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>"
)

SAMPLE = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)


def test_published_url_verification_decrypts_to_the_published_echo() -> None:
    assert SAMPLE.verify_url(**VERIFY) == "1288432023552776189"


def test_published_message_decrypts_to_the_published_text() -> None:
    fields = SAMPLE.decrypt_callback(*MESSAGE_SIG, MESSAGE_BODY)
    assert fields == {
        "ToUserName": CORP_ID,
        "FromUserName": "ChenJiaShun",
        "CreateTime": "1476422779",
        "MsgType": "text",
        "Content": "你好",
        "MsgId": "1456453720",
        "AgentID": "1000002",
    }


def test_a_changed_signature_timestamp_or_token_is_refused() -> None:
    wrong = dict(VERIFY, msg_signature="0" * 40)
    with pytest.raises(CallbackRefused, match="bad signature"):
        SAMPLE.verify_url(**wrong)
    with pytest.raises(CallbackRefused, match="bad signature"):
        SAMPLE.decrypt_callback(MESSAGE_SIG[0], "1476422780", MESSAGE_SIG[2], MESSAGE_BODY)
    with pytest.raises(CallbackRefused, match="bad signature"):
        CallbackCrypto("another-token", AES_KEY, CORP_ID).verify_url(**VERIFY)


def test_another_corp_id_is_refused_even_with_a_good_signature() -> None:
    other = CallbackCrypto(TOKEN, AES_KEY, "ww0000000000000000")
    with pytest.raises(CallbackRefused, match="receive id"):
        other.verify_url(**VERIFY)


def test_round_trip_pads_to_32_bytes_and_signs_like_the_platform() -> None:
    inner = "<xml><MsgType>text</MsgType><Content>查询 恒达建材</Content></xml>"
    sig, body = SAMPLE.encrypted_envelope(inner, "1700000000", "42", "1000002")
    encrypted = parse_xml(body).findtext("Encrypt") or ""
    assert signature(TOKEN, "1700000000", "42", encrypted) == sig
    assert len(__import__("base64").b64decode(encrypted)) % 32 == 0
    assert SAMPLE.decrypt_callback(sig, "1700000000", "42", body)["Content"] == "查询 恒达建材"


def test_entity_expansion_and_external_entities_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xml><Encrypt>&b;</Encrypt></xml>'
    xxe = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>'
    for body in (bomb, xxe, b"<xml><Encrypt>", b"not xml"):
        with pytest.raises(CallbackRefused):
            SAMPLE.decrypt_callback(*MESSAGE_SIG, body)
