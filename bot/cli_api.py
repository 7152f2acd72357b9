"""`creditbot api` (the port's HTTP server), `creditbot admin apikey create|list|revoke` and
`creditbot stats` (逢办必查 counted by source: chat and API)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from services.settings import DB_ENV, READ_DB_ENV, Settings


def add_parser(sub: Any) -> None:
    api = sub.add_parser("api", help="运行联合奖惩应用端口（HTTP 接口，供部门业务系统调用）")
    api.add_argument("--db", metavar="URL", help="数据库地址，覆盖配置文件中的 database.url")
    api.add_argument("--host", help="监听地址（默认 api.listen）")
    api.add_argument("--port", type=int, help="端口（默认 api.port）")
    api.add_argument("--workers", type=int, help="工作进程数（默认 api.workers）")
    stats = sub.add_parser("stats", help="逢办必查统计（按部门、事项和来源：聊天 / 接口）")
    stats.add_argument("--db", metavar="URL", help="数据库地址，覆盖配置文件中的 database.url")


def add_admin_parsers(adsub: Any) -> None:
    key = adsub.add_parser("apikey", help="部门业务系统的接口密钥")
    ksub = key.add_subparsers(dest="apikey_command", required=True)
    create = ksub.add_parser("create", help="生成接口密钥（只显示一次）")
    create.add_argument("--dept", required=True, help="部门代码")
    create.add_argument("--name", required=True, help="接入系统名称，例如 公共资源交易系统")
    create.add_argument("--scopes", default="check,query", help="权限：check,query,idquery,push（逗号分隔）")
    ksub.add_parser("list", help="列出接口密钥")
    revoke = ksub.add_parser("revoke", help="吊销接口密钥")
    revoke.add_argument("prefix", help="密钥前缀（list 中显示）")
    for p in (create, ksub.choices["list"], revoke):
        p.add_argument("--db", metavar="URL", help="数据库地址，覆盖配置文件中的 database.url")


async def run_apikey(settings: Settings, args: argparse.Namespace) -> int:
    from db.session import Database
    from services.apikeys import ApiKeyError, create_key, list_keys, revoke_key
    from services.database_setup import prepare_database

    db = Database(settings.database.url)
    try:
        await prepare_database(db, settings.region.division_code)
        if args.apikey_command == "create":
            new = await create_key(db, args.dept, args.name, args.scopes)
            print(f"接口密钥（只显示这一次，请妥善保存）：{new.key}")
            print(f"前缀：{new.prefix}（用于 list 与 revoke）")
        elif args.apikey_command == "list":
            keys = await list_keys(db)
            if not keys:
                print("还没有接口密钥。")
            for k in keys:
                state = f"已吊销 {k.revoked_at.astimezone(settings.tz):%Y-%m-%d}" if k.revoked_at else "有效"
                used = f"最近使用 {k.last_used_at.astimezone(settings.tz):%Y-%m-%d %H:%M}" if k.last_used_at else "未使用"
                print(f"{k.prefix}  {k.department_code} {k.department_name}  {k.name}  {','.join(k.scopes)}  {state}  {used}")
        else:
            info = await revoke_key(db, args.prefix)
            print(f"接口密钥 {info.prefix}（{info.department_name} · {info.name}）已吊销。")
    except ApiKeyError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    finally:
        await db.dispose()
    return 0


async def run_stats(settings: Settings, args: argparse.Namespace) -> int:
    from db.session import Database
    from services.api_checks import check_counts_by_source
    from services.checks import check_stats
    from services.database_setup import prepare_database

    db = Database(settings.database.url)
    try:
        await prepare_database(db, settings.region.division_code)
        result = await check_stats(db)
        by_source = await check_counts_by_source(db)
    finally:
        await db.dispose()
    print(f"逢办必查：共 {result.total} 次（聊天 {by_source['chat']} 次，接口 {by_source['api']} 次），"
          f"未反馈 {result.without_feedback} 次")
    for dept, matter, n, open_ in result.rows:
        print(f"  {dept} · {matter}：{n} 次（未反馈 {open_}）")
    return 0


async def prepare_database(settings: Settings) -> None:
    """Once, before any worker starts: migrate and load the region when the database is fresh or
    behind; nothing is written to a current one (the port starts on a read-only standby)."""
    from db.session import Database
    from services.database_setup import open_database

    db = Database(settings.database.url)
    try:
        await open_database(db, settings.region.division_code)
    finally:
        await db.dispose()


def run_server(settings: Settings, args: argparse.Namespace, config_path: str | None) -> int:
    import asyncio

    import uvicorn

    from bot.api.app import CONFIG_ENV
    from bot.api.server import raise_open_files_limit, uvicorn_options

    host = args.host or settings.api.listen
    port = args.port or settings.api.port
    workers = args.workers or settings.api.workers
    if not 0 < port < 65536 or workers < 1:
        print("端口应在 1-65535 之间，工作进程数至少为 1。", file=sys.stderr)
        return 2
    asyncio.run(prepare_database(settings))
    # Workers are separate processes: they read the same settings through the environment.
    os.environ[DB_ENV] = settings.database.url
    os.environ[READ_DB_ENV] = settings.database.read_url  # empty after --db: that database has no copy here
    if config_path:
        os.environ[CONFIG_ENV] = config_path
    raise_open_files_limit()  # before the workers start: they inherit it
    print(f"联合奖惩应用端口：http://{host}:{port}/docs （{workers} 个工作进程）", flush=True)
    uvicorn.run("bot.api.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level=settings.log_level.lower(), **uvicorn_options(settings.api))
    return 0
