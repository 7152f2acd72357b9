"""`creditbot`: run the bot, chat in the console, build the demo, migrate, import, administer.

Operators see one clear Chinese line for anything they got wrong (a bad setting, an unknown
department); tracebacks are for bugs only, and even those go to the log, scrubbed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from bot.cli_parser import ChineseArgumentParser
from bot.logging_setup import setup_logging
from rules.roles import ROLES
from services.errors import EXIT_REFUSED, Refusal
from services.settings import ConfigError, Settings, load_settings, with_database

log = logging.getLogger("creditbot")
# Failures of reaching the database at all (refused, unknown host, no such database, cannot open).
UNREACHABLE: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError)
try:
    import asyncpg
    from sqlalchemy.exc import InterfaceError, OperationalError

    UNREACHABLE += (OperationalError, InterfaceError, asyncpg.InvalidCatalogNameError, asyncpg.InvalidPasswordError)
except ImportError:  # pragma: no cover - both are dependencies
    pass

CONSOLE_JOBS = frozenset({"refresh_name_index"})
CONSOLE_USER_IDS = {"public": 900001, "enterprise": 900002, "official": 900003, "collector": 900004, "admin": 900005}


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL", help="数据库地址，覆盖配置文件中的 database.url")


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(prog="creditbot", description="信用通：公共信用信息查询机器人")
    parser.add_argument("--config", type=Path, help="配置文件（默认读取当前目录的 config.toml）")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("run", help="运行机器人：已配置的每个渠道（Telegram、企业微信）")

    console = sub.add_parser("console", help="在终端中与机器人对话（不需要 Telegram）")
    _add_db(console)
    console.add_argument("--as", dest="role", default="official", choices=list(CONSOLE_USER_IDS))
    console.add_argument("--dept", help="部门代码")
    console.add_argument("--subject", help="绑定主体的统一社会信用代码")
    console.add_argument("--user", type=int, help="Telegram 用户 ID（默认按角色固定）")
    console.add_argument("--json", action="store_true", help="每个机器人动作输出一行 JSON")
    console.add_argument("--save-dir", type=Path, help="机器人发送的文件保存到此目录（默认 var/console）")

    demo = sub.add_parser("demo", help="生成演示档案并以办事人员身份打开控制台")
    _add_db(demo)
    demo.add_argument("--subjects", type=int, default=3000, help="演示主体数量（默认 3000）")
    demo.add_argument("--rebuild", action="store_true", help="清空并重新生成演示档案")
    demo.add_argument("--no-console", action="store_true", help="只生成档案，不打开控制台")

    dbp = sub.add_parser("db", help="数据库维护")
    dbsub = dbp.add_subparsers(dest="db_command", required=True)
    for name, text in (("upgrade", "迁移到最新结构"), ("current", "显示当前结构版本")):
        _add_db(dbsub.add_parser(name, help=text))

    admin = sub.add_parser("admin", help="账号管理")
    adsub = admin.add_subparsers(dest="admin_command", required=True)
    invite = adsub.add_parser("invite", help="生成一次性绑定码")
    _add_db(invite)
    invite.add_argument("--role", required=True, choices=ROLES)
    invite.add_argument("--dept", help="部门代码")
    invite.add_argument("--subject", help="主体统一社会信用代码（企业账号）")
    invite.add_argument("--hours", type=int, default=72, help="有效期（小时，默认 72）")
    for name, text in (("deactivate", "停用账号"), ("activate", "启用账号")):
        p = adsub.add_parser(name, help=text)
        _add_db(p)
        p.add_argument("--user", type=int, required=True, help="Telegram 用户 ID")
    departments = adsub.add_parser("departments", help="列出部门代码（--dept 等参数使用）")
    _add_db(departments)
    from bot import cli_api

    cli_api.add_admin_parsers(adsub)

    due = sub.add_parser("due", help="计算报送期限（工作日，含调休）")
    due.add_argument("date", help="决定日期，例如 2026-09-28")
    due.add_argument("--category", help="信息类别，例如 行政处罚；不填则列出双公示和按月两种期限")
    due.add_argument("--today", help="按此日期计算剩余工作日（默认今天）")

    from bot import cli_api, cli_collect, cli_evaluation, cli_import, cli_lifecycle, cli_repair

    cli_import.add_parser(sub)
    cli_collect.add_parser(sub)
    cli_lifecycle.add_parser(sub)
    cli_repair.add_parser(sub)
    cli_evaluation.add_parser(sub)
    cli_api.add_parser(sub)
    return parser


def _due(settings: Settings, args: argparse.Namespace) -> int:
    import datetime as dt

    from bot.calendar_settings import calendar_from_settings
    from nlp.dates import DateError, parse_date
    from render.due import due_text
    from rules.categories import normalize_category

    today = dt.datetime.now(settings.tz).date()
    try:
        today = parse_date(args.today, today) if args.today else today
        decision = parse_date(args.date, today)
    except DateError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    category = None
    if args.category:
        category = normalize_category(args.category)
        if category is None:
            print(f"未知的信息类别：{args.category}", file=sys.stderr)
            return 2
    calendar = calendar_from_settings(settings)
    try:
        print(due_text(calendar, decision, category, today))
    except ValueError as exc:  # a span the calendar refuses to walk
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def keep_console_jobs(app: Any) -> None:
    """The console is one person's terminal: it keeps the name index current, but must not claim and
    swallow the reminders and digests meant for other people's chats (the bot sends those)."""
    if app.job_queue is not None:
        for job in app.job_queue.jobs():
            if job.name not in CONSOLE_JOBS:
                job.schedule_removal()


async def _console(settings: Settings, args: argparse.Namespace, banner: str | None = None) -> int:
    from bot.app import build_application, start_services, stop_services
    from bot.console import ConsoleChat, run_console
    from bot.console_files import DEFAULT_DIR, FileSaver
    from bot.transport import InProcessBotAPI
    from services.accounts import ensure_local_account

    transport = InProcessBotAPI()
    app = build_application(settings, transport)
    async with app:
        await start_services(app)
        user_id = args.user or CONSOLE_USER_IDS[args.role]
        await ensure_local_account(
            app.bot_data["services"].db, user_id, args.role, args.dept, args.subject, "控制台用户"
        )
        if banner and not args.json:
            print(banner)
        await app.start()
        keep_console_jobs(app)
        try:
            saver = FileSaver(args.save_dir or DEFAULT_DIR)
            await run_console(ConsoleChat(app, transport, user_id), json_mode=args.json, saver=saver)
        finally:
            await app.stop()
            await stop_services(app)  # the outbox's last entries, then the engines (PTB calls it only when it runs the loop)
    return 0


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from db.demo.load import build_demo, demo_present, showcase_help
    from db.session import Database
    from services.database_setup import prepare_database

    db = Database(settings.database.url)
    try:
        await prepare_database(db, settings.region.division_code)
        if args.rebuild or not await demo_present(db):
            with Progress(transient=True) as progress:
                task = progress.add_task("生成演示档案", total=args.subjects)
                summary = await build_demo(
                    db,
                    n_subjects=args.subjects,
                    id_key=settings.privacy.id_hash_key,
                    rebuild=args.rebuild,
                    progress=lambda done, total: progress.update(task, completed=done, total=total),
                )
            print(f"演示档案已生成：{summary.subjects} 个主体，{summary.records} 条信用记录。")
            import datetime

            from services.evaluation import full_run

            await full_run(db, datetime.datetime.now(settings.tz).date())  # grades on the demo cards from the start
    finally:
        await db.dispose()
    if args.no_console:
        return 0
    args.role, args.dept, args.subject, args.user, args.json = "official", None, None, None, False
    args.save_dir = None
    return await _console(settings, args, banner=showcase_help())


async def _db(settings: Settings, args: argparse.Namespace) -> int:
    from db import migrate
    from db.session import Database
    from services.database_setup import prepare_database
    from services.departments import list_departments

    db = Database(settings.database.url)
    try:
        if args.db_command == "upgrade":
            await prepare_database(db, settings.region.division_code)
            departments = len(await list_departments(db))
            print(f"数据库已迁移到最新版本：{await migrate.current_revision(db)}")
            print(f"已载入本地区的 {departments} 个部门（creditbot admin departments 列出部门代码）。")
        else:
            print(await migrate.current_revision(db) or "（尚未迁移）")
    finally:
        await db.dispose()
    return 0


async def _admin(settings: Settings, args: argparse.Namespace) -> int:
    import datetime as dt

    from db.session import Database
    from services.accounts import create_invitation, set_active
    from services.database_setup import prepare_database
    from services.departments import list_departments

    db = Database(settings.database.url)
    try:
        await prepare_database(db, settings.region.division_code)
        if args.admin_command == "departments":
            rows = await list_departments(db)
            for d in rows:
                print(f"{d.code}\t{d.short_name}\t{d.name}")
            if not rows:
                print("（没有部门：本地区的数据文件中没有部门）")
        elif args.admin_command == "invite":
            invitation = await create_invitation(
                db, args.role, args.dept, args.subject, valid_for=dt.timedelta(hours=args.hours)
            )
            expires = invitation.expires_at.astimezone(settings.tz)
            print(f"绑定码：{invitation.code}")
            print(f"有效期至：{expires:%Y-%m-%d %H:%M}（仅可使用一次）。请让对方在机器人中发送 /bind {invitation.code}")
        else:
            await set_active(db, args.user, args.admin_command == "activate")
            print(f"账号 {args.user} 已{'启用' if args.admin_command == 'activate' else '停用'}。")
    finally:
        await db.dispose()
    return 0


def _run_telegram(settings: Settings) -> int:
    from bot import telegram_run

    if not settings.telegram.token:
        print("未配置 Telegram token（config.toml 的 telegram.token 或环境变量 CREDITBOT_TELEGRAM_TOKEN），"
              "也未配置企业微信（[wecom]）或服务号（[wechat]）；不连接任何平台也可以运行 `creditbot demo` 在终端中体验。")
        return 2
    return asyncio.run(telegram_run.serve(settings))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = with_database(load_settings(args.config), getattr(args, "db", None))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    setup_logging(settings.log_level if args.command == "run" else "WARNING", settings.tz)
    try:
        return _dispatch(settings, args)
    except KeyboardInterrupt:
        return 130
    except ConfigError as exc:  # a setting only a command's own checks could judge
        print(str(exc), file=sys.stderr)
        return 2
    except UNREACHABLE as exc:  # no traceback for a database that is down, missing or refusing us
        print(unreachable_text(settings.database.url, exc), file=sys.stderr)
        return 2


def unreachable_text(url: str, exc: BaseException) -> str:
    """One Chinese line naming the database (password hidden) and the kind of failure."""
    from sqlalchemy.engine import make_url

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL was refused by the settings already; never echo it raw
        shown = "database.url"
    return f"无法连接数据库 {shown}（{type(exc).__name__}）：请检查 database.url（或 --db）以及数据库服务是否已启动。"


async def answer(command: Awaitable[int]) -> int:
    """Run one command to its exit code; the one place a use case's refusal becomes a CLI answer
    (its reason on stderr, exit code `EXIT_REFUSED`)."""
    try:
        return await command
    except Refusal as exc:
        print(exc.reason, file=sys.stderr)
        return EXIT_REFUSED


def _dispatch(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "run":
        if settings.wecom.enabled or settings.wechat.enabled:  # every configured channel in one process
            from bot.callbacks.run import serve

            asyncio.run(serve(settings))
            return 0
        return _run_telegram(settings)
    if args.command == "api":
        from bot import cli_api

        return cli_api.run_server(settings, args, str(args.config) if args.config else None)
    if args.command == "due":
        return _due(settings, args)
    return asyncio.run(run_command(settings, args))


async def run_command(settings: Settings, args: argparse.Namespace) -> int:
    """Every command but `run`, `api` and `due` (which keep their own loop or need none), to its exit code."""
    from bot import cli_api, cli_collect, cli_evaluation, cli_import, cli_lifecycle

    if args.command == "stats":
        return await cli_api.run_stats(settings, args)
    if args.command == "admin" and args.admin_command == "apikey":
        return await cli_api.run_apikey(settings, args)
    if args.command == "import":
        return await answer(cli_import.run(args, settings))
    if args.command == "listing":
        return await answer(cli_lifecycle.run(args, settings))
    if args.command == "repair":
        from bot import cli_repair

        return await answer(cli_repair.run(args, settings))
    if args.command == "evaluate":
        return await answer(cli_evaluation.run(args, settings))
    if args.command in cli_collect.COMMANDS:
        return await answer(cli_collect.run(args, settings))
    runners: dict[str, Any] = {"console": _console, "demo": _demo, "db": _db, "admin": _admin}
    return await answer(runners[args.command](settings, args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
