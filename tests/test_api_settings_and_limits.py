"""The port's settings and its per-key rate limit, without a server."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.api.security import RateLimiter
from services.apikeys import ApiKeyError, parse_scopes
from services.settings import ConfigError, load_settings


def test_api_settings_are_read_and_checked(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[api]\nport = 9090\nworkers = 2\nrate_per_minute = 60\n", encoding="utf-8")
    settings = load_settings(cfg, env={})
    assert (settings.api.port, settings.api.workers, settings.api.rate_per_minute) == (9090, 2, 60)
    assert settings.api.max_body_mb == 16  # default kept
    for bad, key in (("port = 0", "api.port"), ("workers = 0", "api.workers"), ("burst = -1", "api.burst"),
                     ("rate = 5", "api.rate")):
        cfg.write_text(f"[api]\n{bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as exc:
            load_settings(cfg, env={})
        assert key in str(exc.value)


def test_rate_limiter_allows_a_burst_then_refills_at_the_rate() -> None:
    limiter = RateLimiter(per_minute=60, burst=3)  # one a second
    assert [limiter.take(1, now=100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take(1, now=100.0)
    assert wait == pytest.approx(1.0)
    assert limiter.take(2, now=100.0) == 0.0  # another key has its own bucket
    assert limiter.take(1, now=100.5) == pytest.approx(0.5)
    assert limiter.take(1, now=101.01) == 0.0


def test_scopes_are_parsed_strictly() -> None:
    assert parse_scopes("check, push，query,check") == ("check", "push", "query")
    with pytest.raises(ApiKeyError, match="未知的权限范围"):
        parse_scopes("check,admin")
    with pytest.raises(ApiKeyError, match="至少需要一个"):
        parse_scopes(" , ")
