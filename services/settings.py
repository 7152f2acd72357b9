"""Settings: built-in defaults, overridden by `config.toml`, overridden by the environment.

Every key is checked: an unknown or ill-typed setting stops the program with one line that names
the key, because a silently ignored typo in a production config is worse than a refusal to start.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from db.urls import POOLERS, url_problem, with_pooler
from rules.declarations import DeclarationSettings

TOKEN_ENV = "CREDITBOT_TELEGRAM_TOKEN"
WECOM_SECRET_ENV = "CREDITBOT_WECOM_SECRET"
WECHAT_SECRET_ENV = "CREDITBOT_WECHAT_SECRET"
DB_ENV = "CREDITBOT_DATABASE_URL"
READ_DB_ENV = "CREDITBOT_DATABASE_READ_URL"
DEFAULT_DB_URL = "sqlite+aiosqlite:///var/creditbot.sqlite3"


class ConfigError(Exception):
    """A setting is wrong; str() is the one line shown to the operator."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"配置错误：{key} {reason}")
        self.key = key


@dataclass(frozen=True)
class TelegramSettings:
    token: str = ""
    mode: str = "polling"  # polling | webhook
    listen: str = "127.0.0.1"
    port: int = 8443
    webhook_url: str = ""
    secret_token: str = ""


@dataclass(frozen=True)
class WeComSettings:
    """A WeCom / 政务微信 self-built app (自建应用); the channel is on when corp_id is set."""

    corp_id: str = ""
    agent_id: int = 0
    secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    # The public WeCom API, or the API host of a government deployment (政务微信).
    api_base_url: str = "https://qyapi.weixin.qq.com"
    listen: str = "127.0.0.1"
    port: int = 8090
    path: str = "/wecom"
    # A callback whose signed timestamp is further than this from now is refused (a replay); callbacks
    # are remembered (dedupe) for two days, or twice this window if longer.
    replay_window_seconds: int = 300

    @property
    def enabled(self) -> bool:
        return bool(self.corp_id)


@dataclass(frozen=True)
class WeChatSettings:
    """A WeChat 服务号 (official account) in security mode (安全模式); the channel is on when app_id is set."""

    app_id: str = ""
    app_secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    api_base_url: str = "https://api.weixin.qq.com"
    # Where a browser is sent for 网页授权 (OAuth2, snsapi_base): download links open only for the
    # WeChat user they were sent to. region.public_url's domain must be the account's 网页授权域名.
    oauth_base_url: str = "https://open.weixin.qq.com"
    listen: str = "127.0.0.1"
    port: int = 8091
    path: str = "/wechat"
    replay_window_seconds: int = 300
    # Publish the custom menu (自定义菜单) at start-up.
    menu: bool = True
    # Outside the 48-hour 客服消息 window a notice goes out as a template message (模板消息, "template")
    # or a subscription notice (订阅通知, "subscribe") with a link to read it; "" template id: no such
    # fallback (the notice is then reported undelivered). The keys are the template's own field names.
    notice_kind: str = "template"
    notice_template_id: str = ""
    notice_title_key: str = "thing1"
    notice_time_key: str = "time2"

    @property
    def enabled(self) -> bool:
        return bool(self.app_id)


@dataclass(frozen=True)
class WebSettings:
    """Pages a phone opens, served by the HTTP port (`creditbot api`) at `region.public_url`."""

    # A document handed out as a link (WeChat cannot send a PDF): minutes it stays valid, and how
    # often it may be downloaded in that time.
    download_minutes: int = 30
    download_opens: int = 3
    # A notice sent outside WeChat's 48-hour window links to a page with its text, valid this long.
    notice_link_hours: int = 72


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = DEFAULT_DB_URL
    echo: bool = False
    # "transaction" when `url` points at a transaction-mode pooler (PgBouncer), "session" for a
    # session-mode one; folded into `url` as its `pooler` parameter (db/urls.py) for every command.
    pooler: str = ""
    # A read-only copy of `url` (a PostgreSQL hot standby; the same URL forms and libpq parameters):
    # look-ups, cards, candidate lists and reports read there, every write still goes to `url`.
    # Empty: everything on `url`.
    read_url: str = ""
    # Connections each process keeps open to `url` (and as many to `read_url`), and how many more it
    # may open for a burst and close again. A process's peak is pool_size + max_overflow per engine:
    # keep (bot processes + API workers) x that under the server's max_connections. The API's
    # workers use `api.db_pool_size` instead of `pool_size`.
    pool_size: int = 10
    max_overflow: int = 4
    # The look-up path's own writes (the audit row of every look-up, the chat's current subject) are
    # appended to a spool file in this directory and written to `url` in batches, in order, by a
    # background task, so an answer never waits on the primary; a process killed mid-way leaves its
    # file, and the next process started on this directory writes it (db/outbox.py). Empty: written
    # at once in their own transaction. Give each host its own local directory.
    outbox_dir: str = ""
    # Milliseconds the outbox waits to gather a batch before writing it.
    outbox_flush_ms: int = 200


@dataclass(frozen=True)
class RegionSettings:
    name: str = "安康市"
    division_code: str = "610900"
    platform_name: str = "安康市公共信用信息平台"
    public_url: str = ""  # e.g. https://credit.example.gov.cn: QR codes on documents link there


@dataclass(frozen=True)
class ReminderSettings:
    times: list[str] = field(default_factory=lambda: ["09:00", "15:00"])
    days_before_month_end: int = 3
    escalate_after_working_days: int = 3


@dataclass(frozen=True)
class CalendarSettings:
    holidays: list[dt.date] = field(default_factory=list)
    workdays: list[dt.date] = field(default_factory=list)


@dataclass(frozen=True)
class PrivacySettings:
    # Key of the HMAC that turns ID numbers into match keys; change it before going live.
    id_hash_key: str = "creditbot-demo-key"
    mask_person_names: bool = True
    mask_addresses: bool = True
    # Hours an upload waiting for 确认导入 keeps its (encrypted) bytes; then they are deleted.
    upload_retention_hours: int = 24


@dataclass(frozen=True)
class LimitSettings:
    """Per-user flood limit of the chat: messages and button presses in any 60 seconds; and how many
    CPU-heavy jobs (file checks and imports, PDFs, charts, evaluation runs) run at once per process."""

    messages_per_minute: int = 30
    heavy_jobs: int = 1


@dataclass(frozen=True)
class LifecycleSettings:
    # Working days a subject has to object to a prior notice, and a department to answer an objection.
    objection_period_working_days: int = 5
    objection_answer_working_days: int = 5


@dataclass(frozen=True)
class RepairSettings:
    """Repair cases and the 信用修复告知书 (rules/repair_case.py, services/repair_notices.py). The
    limits are working days; their defaults are unconfirmed (README: rules and their sources)."""

    accept_working_days: int = 3
    decide_working_days: int = 5
    remind_before_working_days: int = 1
    # A 告知书 is owed for penalties decided at most this many days before they are imported, so a
    # department loading its archive does not serve notices for decisions served years ago.
    notice_within_days: int = 30


@dataclass(frozen=True)
class EvaluationSettings:
    # Whether the public and enterprises see grades on cards and reports (officials always do).
    public_grades: bool = False
    # Local times of the daily full evaluation run and of the risk-warning digest to officials.
    full_run_time: str = "02:00"
    digest_time: str = "08:30"


@dataclass(frozen=True)
class ApiSettings:
    """The HTTP port for department systems (`creditbot api`)."""

    listen: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    max_body_mb: int = 16
    # Requests per minute per key, per worker process; a burst of up to `burst` is allowed.
    rate_per_minute: int = 1200
    burst: int = 100
    index_refresh_seconds: int = 10
    # Keyless document checks (GET /verify, the QR code's address) per client address and minute.
    verify_per_minute: int = 30
    # Database connections each worker keeps open: one per request in flight (a check holds one for
    # its transaction); beyond it up to `database.max_overflow` more are opened and closed again, which
    # costs a server process. Per worker at most db_pool_size + database.max_overflow (to each of
    # database.url and database.read_url).
    db_pool_size: int = 16
    # Idempotency-Key: a copy of a request still running is waited for this long, then answered 409
    # with Retry-After; a claim whose holder died is taken over after the lease; answers are kept
    # this many days (a retry after that runs again).
    idempotency_wait_seconds: int = 10
    idempotency_lease_seconds: int = 120
    idempotency_days: int = 7
    # The HTTP server (uvicorn, bot/api/server.py): seconds a kept-alive connection may sit idle; a
    # client must send a whole request head within `request_head_seconds` (at most `max_head_kb`)
    # and its body within `request_body_seconds`; past `limit_concurrency` connections or requests
    # in flight per worker new requests get 503; `backlog` connections may wait to be accepted.
    timeout_keep_alive: int = 5
    request_head_seconds: int = 10
    request_body_seconds: int = 60
    max_head_kb: int = 64
    limit_concurrency: int = 2000
    backlog: int = 2048
    # Addresses of the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed
    # (comma-separated IPs or networks, "*" for any); empty: none, the peer address is the client.
    forwarded_allow_ips: str = ""


@dataclass(frozen=True)
class QuerySettings:
    # Minutes after a card during which a follow-up ("许可呢", "政府采购", "更多") refers to its subject.
    followup_minutes: int = 30


@dataclass(frozen=True)
class ConversationSettings:
    """Minutes each multi-step chat flow waits for the user's next answer before it ends and says so
    (the declaration's own timeout is `declarations.timeout_seconds`)."""

    objection_minutes: int = 30
    repair_minutes: int = 30
    propose_minutes: int = 30
    review_minutes: int = 20  # the reason (and corrections) of an objection, repair or verification decision
    feedback_minutes: int = 15  # the note of a 逢办必查 feedback
    checkreport_minutes: int = 15  # waiting for the PDF after /checkreport
    unbind_minutes: int = 5  # the confirmation of /unbind
    # Longest time between two looks for timed-out flows (shorter when a timeout is shorter).
    sweep_seconds: int = 60


@dataclass(frozen=True)
class IndexSettings:
    """The name index snapshot (services.name_index): where it lives and when it is rewritten."""

    # "auto": next to the SQLite file (<file>.name_index), for PostgreSQL var/name_index-<db>.snapshot;
    # a path: that file; "": no snapshot, the index is always built before serving.
    snapshot: str = "auto"
    # Below this many subjects the index is built before serving and no snapshot is kept: reading
    # the database is then as quick as reading a snapshot.
    min_subjects: int = 20_000
    # The snapshot is rewritten (in the background) once the index has taken in this many changed
    # subjects since it was written, or any change and it is this many minutes old.
    rewrite_after_changes: int = 10_000
    rewrite_after_minutes: int = 60
    # The bot reads the change stream into its index this often; a new or renamed subject is found
    # by name at most this long (plus the read copy's lag) after it is committed. The port's workers
    # have their own `api.index_refresh_seconds`.
    refresh_seconds: int = 30


@dataclass(frozen=True)
class Settings:
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    wecom: WeComSettings = field(default_factory=WeComSettings)
    wechat: WeChatSettings = field(default_factory=WeChatSettings)
    web: WebSettings = field(default_factory=WebSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    region: RegionSettings = field(default_factory=RegionSettings)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    calendar: CalendarSettings = field(default_factory=CalendarSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)
    repair: RepairSettings = field(default_factory=RepairSettings)
    declarations: DeclarationSettings = field(default_factory=DeclarationSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    query: QuerySettings = field(default_factory=QuerySettings)
    conversations: ConversationSettings = field(default_factory=ConversationSettings)
    index: IndexSettings = field(default_factory=IndexSettings)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _convert(key: str, value: Any, annotation: Any) -> Any:
    text = str(annotation)
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, "应为 true 或 false")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, "应为整数")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(key, "应为字符串")
        return value
    if text.startswith("list[") and "date" in text:
        if not isinstance(value, list):
            raise ConfigError(key, "应为日期列表，例如 [2027-01-01]")
        out = []
        for item in value:
            if isinstance(item, dt.datetime) or not isinstance(item, dt.date | str):
                raise ConfigError(key, f"含有无效日期：{item!r}")
            try:
                out.append(item if isinstance(item, dt.date) else dt.date.fromisoformat(item))
            except ValueError:
                raise ConfigError(key, f"含有无效日期：{item!r}") from None
        return out
    if text.startswith("list[") and "str" in text:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(key, "应为字符串列表")
        return value
    raise ConfigError(key, "类型不受支持")  # pragma: no cover - guards future fields


def _build(cls: type, data: dict[str, Any], prefix: str) -> Any:
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if key not in known:
            raise ConfigError(full, "是未知的设置项")
        hint = hints[key]
        if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
            if not isinstance(value, dict):
                raise ConfigError(full, "应为一个表（[section]）")
            kwargs[key] = _build(hint, value, f"{full}.")
        else:
            kwargs[key] = _convert(full, value, hint)
    return cls(**kwargs)


def _validate(s: Settings) -> None:
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("timezone", f"不是有效的时区：{s.timezone}") from None
    if s.telegram.mode not in ("polling", "webhook"):
        raise ConfigError("telegram.mode", "只能是 polling 或 webhook")
    _validate_webhook(s.telegram)
    if not 0 < s.telegram.port < 65536:
        raise ConfigError("telegram.port", "应在 1-65535 之间")
    _validate_wecom(s.wecom)
    _validate_wechat(s)
    problem = url_problem(s.database.url)
    if problem is not None:
        raise ConfigError("database.url", f"有误：{problem}")
    if s.database.pooler not in POOLERS:
        raise ConfigError("database.pooler", "只能是 transaction、session 或留空")
    if s.database.read_url and (problem := url_problem(s.database.read_url)) is not None:
        raise ConfigError("database.read_url", f"有误：{problem}")
    if not 1 <= s.database.pool_size <= 200:
        raise ConfigError("database.pool_size", "应在 1-200 之间")
    if not 0 <= s.database.max_overflow <= 200:
        raise ConfigError("database.max_overflow", "应在 0-200 之间")
    if not 1 <= s.database.outbox_flush_ms <= 60_000:
        raise ConfigError("database.outbox_flush_ms", "应在 1-60000 毫秒之间")
    if not (s.region.division_code.isascii() and s.region.division_code.isdigit() and len(s.region.division_code) == 6):
        raise ConfigError("region.division_code", "应为 6 位数字的行政区划代码")
    if s.region.public_url and not s.region.public_url.startswith(("https://", "http://")):
        raise ConfigError("region.public_url", "应以 https:// 或 http:// 开头")
    for t in s.reminders.times:
        try:
            dt.time.fromisoformat(t)
        except ValueError:
            raise ConfigError("reminders.times", f"含有无效时间：{t}") from None
    if s.limits.messages_per_minute < 1:
        raise ConfigError("limits.messages_per_minute", "应为正整数")
    if not 1 <= s.limits.heavy_jobs <= 16:
        raise ConfigError("limits.heavy_jobs", "应在 1-16 之间")
    if not 1 <= s.privacy.upload_retention_hours <= 24 * 30:
        raise ConfigError("privacy.upload_retention_hours", "应在 1-720 小时之间")
    for key in ("full_run_time", "digest_time"):
        try:
            dt.time.fromisoformat(getattr(s.evaluation, key))
        except ValueError:
            raise ConfigError(f"evaluation.{key}", f"不是有效的时间：{getattr(s.evaluation, key)}") from None
    if not 0 < s.api.port < 65536:
        raise ConfigError("api.port", "应在 1-65535 之间")
    for key in ("workers", "max_body_mb", "rate_per_minute", "burst", "index_refresh_seconds", "verify_per_minute",
                "db_pool_size", "idempotency_wait_seconds", "idempotency_lease_seconds", "idempotency_days",
                "timeout_keep_alive", "request_head_seconds", "request_body_seconds", "max_head_kb",
                "limit_concurrency", "backlog"):
        if getattr(s.api, key) < 1:
            raise ConfigError(f"api.{key}", "应为正整数")
    from rules.repair_case import Limits

    try:
        Limits(s.repair.accept_working_days, s.repair.decide_working_days, s.repair.remind_before_working_days)
    except ValueError as exc:
        raise ConfigError("repair", str(exc)) from None
    if not 1 <= s.repair.notice_within_days <= 366:
        raise ConfigError("repair.notice_within_days", "应在 1-366 天之间")
    for f in fields(ConversationSettings):
        if getattr(s.conversations, f.name) < 1:
            raise ConfigError(f"conversations.{f.name}", "应为正整数")
    if not 1 <= s.index.refresh_seconds <= 3600:
        raise ConfigError("index.refresh_seconds", "应在 1-3600 秒之间")
    if s.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("log_level", "只能是 DEBUG、INFO、WARNING 或 ERROR")


# Telegram's setWebhook (https://core.telegram.org/bots/api#setwebhook): secret_token is 1-256
# characters of A-Z, a-z, 0-9, _ and -; the URL is HTTPS on port 443, 80, 88 or 8443.
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
WEBHOOK_PORTS = (443, 80, 88, 8443)


def webhook_url_problem(url: str) -> str | None:
    """Why Telegram would refuse `url` as a webhook address (Chinese), or None."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return "的端口无效"
    if parts.scheme != "https" or not parts.hostname:
        return "应为 https:// 开头的完整地址（Telegram 只向 HTTPS 地址推送）"
    if port is not None and port not in WEBHOOK_PORTS:
        return "的端口只能是 443、80、88 或 8443（Telegram 只向这些端口推送；反向代理在此端口接收后转发给 telegram.port）"
    return None


def _validate_webhook(t: TelegramSettings) -> None:
    """Webhook mode refuses to start without a secret: without it anyone who finds the address can
    post updates claiming to be any user (an official included), and the bot would act on them."""
    if t.secret_token and not SECRET_TOKEN.fullmatch(t.secret_token):
        raise ConfigError(
            "telegram.secret_token",
            "只能由 1-256 个英文字母、数字、下划线 _ 和连字符 - 组成（Telegram 的规定；可用 openssl rand -hex 32 生成）",
        )
    if t.mode != "webhook" or not t.token:
        return
    if not t.webhook_url:
        raise ConfigError("telegram.webhook_url", "在 webhook 模式下必须填写")
    problem = webhook_url_problem(t.webhook_url)
    if problem:
        raise ConfigError("telegram.webhook_url", problem)
    if not t.secret_token:
        raise ConfigError(
            "telegram.secret_token",
            "在 webhook 模式下必须填写：没有它，任何人都能冒充 Telegram 向机器人推送消息（可用 openssl rand -hex 32 生成）",
        )


def _validate_wecom(w: WeComSettings) -> None:
    if not w.enabled:
        return
    for key in ("secret", "token", "encoding_aes_key"):
        if not getattr(w, key):
            raise ConfigError(f"wecom.{key}", "在启用企业微信（填写了 corp_id）时必须填写")
    if w.agent_id <= 0:
        raise ConfigError("wecom.agent_id", "应为应用的 AgentId（正整数）")
    if len(w.encoding_aes_key) != 43 or not w.encoding_aes_key.isalnum():
        raise ConfigError("wecom.encoding_aes_key", "应为 43 位字母和数字（企业微信后台生成的 EncodingAESKey）")
    if not w.api_base_url.startswith(("https://", "http://")):
        raise ConfigError("wecom.api_base_url", "应以 https:// 开头")
    if not 0 < w.port < 65536:
        raise ConfigError("wecom.port", "应在 1-65535 之间")
    if not w.path.startswith("/"):
        raise ConfigError("wecom.path", "应以 / 开头")
    if not 30 <= w.replay_window_seconds <= 86_400:
        raise ConfigError("wecom.replay_window_seconds", "应在 30-86400 秒之间")


def _validate_wechat(s: Settings) -> None:
    for key in ("download_minutes", "download_opens", "notice_link_hours"):
        if getattr(s.web, key) < 1:
            raise ConfigError(f"web.{key}", "应为正整数")
    w = s.wechat
    if not w.enabled:
        return
    for key in ("app_secret", "token", "encoding_aes_key"):
        if not getattr(w, key):
            raise ConfigError(f"wechat.{key}", "在启用服务号（填写了 app_id）时必须填写")
    if len(w.encoding_aes_key) != 43 or not w.encoding_aes_key.isalnum():
        raise ConfigError("wechat.encoding_aes_key", "应为 43 位字母和数字（公众平台生成的 EncodingAESKey）")
    if not (3 <= len(w.token) <= 32 and w.token.isascii() and w.token.isalnum()):
        raise ConfigError("wechat.token", "应为 3-32 位英文字母或数字（与公众平台“服务器配置”中的 Token 一致）")
    if not w.api_base_url.startswith(("https://", "http://")):
        raise ConfigError("wechat.api_base_url", "应以 https:// 开头")
    if not w.oauth_base_url.startswith(("https://", "http://")):
        raise ConfigError("wechat.oauth_base_url", "应以 https:// 开头")
    if not 0 < w.port < 65536:
        raise ConfigError("wechat.port", "应在 1-65535 之间")
    if not w.path.startswith("/"):
        raise ConfigError("wechat.path", "应以 / 开头")
    if not 30 <= w.replay_window_seconds <= 86_400:
        raise ConfigError("wechat.replay_window_seconds", "应在 30-86400 秒之间")
    if w.notice_kind not in ("template", "subscribe"):
        raise ConfigError("wechat.notice_kind", "只能是 template 或 subscribe")
    if not s.region.public_url:
        raise ConfigError("region.public_url", "在启用服务号时必须填写：文件下载和通知链接指向这个地址")


def load_settings(path: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Read `config.toml` (or `path`); a missing default file means built-in defaults."""
    env = dict(os.environ) if env is None else env
    data: dict[str, Any] = {}
    if path is None:
        candidate = Path("config.toml")
        path = candidate if candidate.exists() else None
    elif not path.exists():
        raise ConfigError(str(path), "文件不存在")
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), f"不是有效的 TOML：{exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(str(path), "不是 UTF-8 编码") from None
    if env.get(TOKEN_ENV):
        data.setdefault("telegram", {})["token"] = env[TOKEN_ENV]
    if env.get(WECOM_SECRET_ENV):
        data.setdefault("wecom", {})["secret"] = env[WECOM_SECRET_ENV]
    if env.get(WECHAT_SECRET_ENV):
        data.setdefault("wechat", {})["app_secret"] = env[WECHAT_SECRET_ENV]
    if env.get(DB_ENV):
        data.setdefault("database", {})["url"] = env[DB_ENV]
    if READ_DB_ENV in env:  # set and empty: no read copy (an API worker after `--db`)
        data.setdefault("database", {})["read_url"] = env[READ_DB_ENV]
    settings = _build(Settings, data, "")
    _validate(settings)
    return _with_pooler(settings)


def with_database(settings: Settings, url: str | None) -> Settings:
    """The same settings pointed at another database (the `--db` option). The configured
    `read_url` is a copy of the configured `url`, not of this one: it is dropped."""
    if not url:
        return settings
    from dataclasses import replace

    out = replace(settings, database=replace(settings.database, url=url, read_url=""))
    _validate(out)
    return _with_pooler(out)


def _with_pooler(settings: Settings) -> Settings:
    from dataclasses import replace

    url = with_pooler(settings.database.url, settings.database.pooler)
    read_url = with_pooler(settings.database.read_url, settings.database.pooler) if settings.database.read_url else ""
    if (url, read_url) == (settings.database.url, settings.database.read_url):
        return settings
    return replace(settings, database=replace(settings.database, url=url, read_url=read_url))
