"""API keys of department systems (联合奖惩应用端口): create, list, revoke, authenticate.

A key is `ck_<prefix>_<secret>`: the prefix names the key in lists and in the audit trail, the
secret is 32 random bytes. Only SHA-256 of the whole key is stored (a key is random and long, so a
slow password hash adds nothing), and the key itself is shown once, at creation.

Each key is backed by an account of role `official` in the key's department, without a Telegram
id: the chat's use cases then see the key exactly as they see an official of that department
(visibility, masking, checks and feedback owned by the account, audit rows by account).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update

from db.models import Account, ApiKey, Department, utcnow
from db.session import Database
from services.departments import department_by_code
from services.errors import Refusal

# check: look-up, 逢办必查 and feedback, batch check; query: look-up and credit files by USCC;
# idquery: credit files of natural persons by ID number; push: record push; changes: the change
# feed; repair: repair applications forwarded by 信用中国; special: 专项信用报告 by standing authorisation.
SCOPES: dict[str, str] = {
    "check": "逢办必查（发起、反馈、批量核查）",
    "query": "查询主体与信用档案",
    "idquery": "按身份证号查询自然人档案",
    "push": "报送信用记录",
    "changes": "获取变更（主体列入、移出、修复、屏蔽、新增记录）",
    "repair": "接收和回传信用修复申请（信用中国、省级平台）",
    "special": "经主体授权获取专项信用报告",
}
KEY_PREFIX = "ck"


class ApiKeyError(Exception):
    """A refusal with a Chinese reason meant for the operator."""


@dataclass(frozen=True)
class NewKey:
    id: int
    key: str  # shown once, never stored
    prefix: str


@dataclass(frozen=True)
class KeyInfo:
    id: int
    prefix: str
    name: str
    department_code: str
    department_name: str
    scopes: tuple[str, ...]
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


@dataclass(frozen=True)
class Principal:
    """Who calls: the key, its department and the account acting for it."""

    key_id: int
    prefix: str
    name: str
    account_id: int
    department_id: int
    department_code: str
    department_name: str
    scopes: frozenset[str]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.strip().encode()).hexdigest()


def parse_scopes(text: str) -> tuple[str, ...]:
    """`check,push` → ("check", "push"); unknown scopes are refused, order kept, duplicates dropped."""
    out: list[str] = []
    for part in text.replace("，", ",").split(","):
        scope = part.strip().lower()
        if not scope:
            continue
        if scope not in SCOPES:
            raise ApiKeyError(f"未知的权限范围“{scope}”，可选：{'、'.join(SCOPES)}")
        if scope not in out:
            out.append(scope)
    if not out:
        raise ApiKeyError(f"至少需要一个权限范围（{'、'.join(SCOPES)}）")
    return tuple(out)


async def create_key(db: Database, dept_code: str, name: str, scopes: str) -> NewKey:
    """A new key for a department system; raises ApiKeyError for an unknown department or scope."""
    wanted = parse_scopes(scopes)
    name = name.strip()
    if not name:
        raise ApiKeyError("请填写接入系统的名称（--name）")
    async with db.transaction() as s:
        try:
            dept = await department_by_code(s, dept_code)
        except Refusal as exc:
            raise ApiKeyError(exc.reason) from None
        prefix = secrets.token_hex(4)
        key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
        account = Account(role="official", department_id=dept.id, display_name=f"接口：{name}"[:128], active=True)
        s.add(account)
        await s.flush()
        row = ApiKey(
            prefix=prefix, key_hash=hash_key(key), name=name[:128], department_id=dept.id,
            account_id=account.id, scopes=",".join(wanted),
        )
        s.add(row)
        await s.flush()
        return NewKey(row.id, key, prefix)


async def list_keys(db: Database) -> list[KeyInfo]:
    async with db.transaction() as s:
        rows = await s.execute(
            select(ApiKey, Department.code, Department.name)
            .join(Department, Department.id == ApiKey.department_id)
            .order_by(ApiKey.id)
        )
        return [
            KeyInfo(k.id, k.prefix, k.name, code, dname, tuple(k.scopes.split(",")), k.created_at, k.revoked_at,
                    k.last_used_at)
            for k, code, dname in rows
        ]


async def revoke_key(db: Database, prefix: str) -> KeyInfo:
    """Revoke by prefix (as `list` shows it); the backing account is switched off too."""
    async with db.transaction() as s:
        key = await s.scalar(select(ApiKey).where(ApiKey.prefix == prefix.strip()))
        if key is None:
            raise ApiKeyError(f"找不到前缀为 {prefix} 的接口密钥")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
        account = await s.get(Account, key.account_id)
        if account is not None:
            account.active = False
        dept = await s.get(Department, key.department_id)
        assert dept is not None
        return KeyInfo(key.id, key.prefix, key.name, dept.code, dept.name, tuple(key.scopes.split(",")),
                       key.created_at, key.revoked_at, key.last_used_at)


async def authenticate(db: Database, key: str) -> Principal | None:
    """The principal of a valid, unrevoked key; None for anything else (the caller answers 401)."""
    if not key or len(key) > 200:
        return None
    return await _authenticate_hash(db, hash_key(key))


async def _authenticate_hash(db: Database, digest: str) -> Principal | None:
    async with db.transaction() as s:
        row = (
            await s.execute(
                select(ApiKey, Department.code, Department.name, Account.active)
                .join(Department, Department.id == ApiKey.department_id)
                .join(Account, Account.id == ApiKey.account_id)
                .where(ApiKey.key_hash == digest)
            )
        ).first()
        if row is None:
            return None
        api_key, code, dname, active = row
        if api_key.revoked_at is not None or not active:
            return None
        return Principal(
            api_key.id, api_key.prefix, api_key.name, api_key.account_id, api_key.department_id, code, dname,
            frozenset(api_key.scopes.split(",")),
        )


# How long a worker trusts a verified key without asking the database again: a revoked key (revoked
# by `creditbot admin apikey revoke`, in another process) stops working everywhere within this time.
KEY_CACHE_SECONDS = 10.0


@dataclass
class KeyCache:
    """Verified keys per worker process for `ttl` seconds, so a check does not pay a database round
    trip for its key. Only valid keys are kept (by their hash, never the key): a wrong key asks the
    database every time, as before, and cannot fill the cache."""

    db: Database
    ttl: float = KEY_CACHE_SECONDS
    clock: Callable[[], float] = time.monotonic
    _known: dict[str, tuple[float, Principal]] = field(default_factory=dict)

    async def authenticate(self, key: str) -> Principal | None:
        """`authenticate`, answered from the cache while the key's entry is younger than `ttl`."""
        if not key or len(key) > 200:
            return None
        digest = hash_key(key)
        now = self.clock()
        hit = self._known.get(digest)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        principal = await _authenticate_hash(self.db, digest)
        if principal is None:
            self._known.pop(digest, None)
        else:
            self._known[digest] = (now, principal)
        return principal


async def touch_key(db: Database, key_id: int) -> None:
    """Note when a key was last used (best effort, at most once a minute per key by the caller)."""
    async with db.transaction() as s:
        await s.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))
