"""[wecom] settings: a half-filled section stops the program with one line naming the key; the secret
can come from the environment; a 政务微信 host replaces the public API."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.settings import ConfigError, load_settings

GOOD = """
[wecom]
corp_id = "ww5a1b2c3d4e5f6a7b"
agent_id = 1000017
secret = "from-the-file"
token = "callbackToken"
encoding_aes_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
api_base_url = "https://zwwx.example.gov.cn"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_government_deployment_and_the_secret_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD), env={"CREDITBOT_WECOM_SECRET": "from-env"})
    w = settings.wecom
    assert w.enabled and w.api_base_url == "https://zwwx.example.gov.cn" and w.secret == "from-env"
    assert (w.listen, w.port, w.path) == ("127.0.0.1", 8090, "/wecom")
    assert not load_settings(write(tmp_path, ""), env={}).wecom.enabled


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('token = ""', "wecom.token"),
        ('encoding_aes_key = "tooshort"', "wecom.encoding_aes_key"),
        ("agent_id = 0", "wecom.agent_id"),
        ('api_base_url = "qyapi.weixin.qq.com"', "wecom.api_base_url"),
    ],
)
def test_a_wrong_wecom_setting_names_its_key(tmp_path: Path, line: str, key: str) -> None:
    name = line.split(" = ")[0]
    text = "\n".join(row for row in GOOD.splitlines() if not row.startswith(name + " ")) + "\n" + line + "\n"
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), env={})
    assert caught.value.key == key


def test_log_lines_lose_wecom_tokens_and_secrets() -> None:
    import logging

    from bot.logging_setup import PrivacyFilter

    record = logging.LogRecord(
        "httpx", logging.WARNING, __file__, 1,
        "GET %s failed", ("https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=S3cr3t-value&x=1",), None,
    )
    PrivacyFilter().filter(record)
    assert "S3cr3t-value" not in record.getMessage() and "corpsecret=<secret>&x=1" in record.getMessage()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "POST /message/send?access_token=abc.DEF-123", None, None)
    PrivacyFilter().filter(record)
    assert "abc.DEF-123" not in record.getMessage()
