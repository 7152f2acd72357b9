"""The 服务号's security-mode crypto against the fixed values published with WeChat's own sample code
(WXBizMsgCrypt: the Java sample's encryption test and the Python sample's decryption), not only by a
round trip through this module."""

from __future__ import annotations

import pytest

from bot.callbacks.crypto import CallbackCrypto, plain_signature
from bot.callbacks.safexml import CallbackRefused

# The sample's account: token "pamtest", AppID and EncodingAESKey of the published sample code.
SAMPLE_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SAMPLE = CallbackCrypto("pamtest", SAMPLE_KEY, "wxb11529c136998cb6")
# Java sample, testAesEncrypt: random "aaaabbbbccccdddd", message "我是中文abcd123".
JAVA_CIPHER = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
# Python sample (Sample.py), a text message posted in compatible mode, with its msg_signature.
PY_APP_ID = "wx2c2769f8efd9abc2"
PY_QUERY = ("5d197aaffba7e9b25a30732f161a50dee96bd5fa", "1409735669", "1320562132")
PY_BODY = (
    b"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]>"
    b"</FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]>"
    b"</Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA["
    b"hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9"
    b"FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3y"
    b"t+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v"
    b"6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
    b"]]></Encrypt></xml>"
)


def test_published_encryption_with_a_fixed_random_matches_the_sample() -> None:
    assert SAMPLE.encrypt("我是中文abcd123".encode(), random16=b"aaaabbbbccccdddd") == JAVA_CIPHER
    assert SAMPLE.decrypt(JAVA_CIPHER) == "我是中文abcd123".encode()


def test_published_message_decrypts_to_the_published_fields() -> None:
    crypto = CallbackCrypto("spamtest", SAMPLE_KEY, PY_APP_ID)
    fields = crypto.decrypt_callback(*PY_QUERY, PY_BODY)
    assert fields == {
        "ToUserName": "gh_10f6c3c3ac5a",
        "FromUserName": "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
        "CreateTime": "1409735668",
        "MsgType": "text",
        "Content": "abcdteT",
        "MsgId": "6054768590064713728",
    }


def test_another_appid_or_token_is_refused() -> None:
    with pytest.raises(CallbackRefused, match="receive id"):
        CallbackCrypto("spamtest", SAMPLE_KEY, "wxb11529c136998cb6").decrypt_callback(*PY_QUERY, PY_BODY)
    with pytest.raises(CallbackRefused, match="bad signature"):
        CallbackCrypto("pamtest", SAMPLE_KEY, PY_APP_ID).decrypt_callback(*PY_QUERY, PY_BODY)


def test_url_check_signature_is_over_token_timestamp_and_nonce() -> None:
    import hashlib

    expected = hashlib.sha1("".join(sorted(["pamtest", "1409304348", "xxxxxx"])).encode()).hexdigest()
    assert plain_signature("pamtest", "1409304348", "xxxxxx") == expected
    assert plain_signature("pamtest", "1409304348", "xxxxxy") != expected


def test_wechat_settings_are_checked_before_anything_starts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from services.settings import ConfigError, load_settings

    good = ('[region]\npublic_url = "https://credit.example.gov.cn"\n[wechat]\napp_id = "wx5a1b2c3d4e5f6a7b"\n'
            'app_secret = "s"\ntoken = "pamtest"\nencoding_aes_key = "' + SAMPLE_KEY + '"\n')
    path = tmp_path / "config.toml"
    path.write_text(good, encoding="utf-8")
    assert load_settings(path, env={"CREDITBOT_WECHAT_SECRET": "from-env"}).wechat.app_secret == "from-env"
    for broken, key in (
        (good.replace('public_url = "https://credit.example.gov.cn"', 'public_url = ""'), "region.public_url"),
        (good.replace(SAMPLE_KEY, SAMPLE_KEY[:-1]), "wechat.encoding_aes_key"),
        (good.replace('token = "pamtest"', 'token = "p!"'), "wechat.token"),
        (good + 'notice_kind = "sms"\n', "wechat.notice_kind"),
    ):
        path.write_text(broken, encoding="utf-8")
        with pytest.raises(ConfigError) as refused:
            load_settings(path, env={})
        assert refused.value.key == key
