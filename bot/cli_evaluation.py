"""`creditbot evaluate`: the full evaluation run by hand (the same use case as the nightly job), or
one subject, printing one JSON line of figures; `--digest-dry-run` lists the risk digests that
would go out now, claiming and sending nothing.

Exit status: 0 done; 2 the input or the database could not be used (one Chinese line, no traceback).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from services.settings import Settings

EXIT_OK, EXIT_UNUSABLE = 0, 2


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("evaluate", help="信用评价：全量计算、单个主体计算、预警汇总预演")
    p.add_argument("--subject", metavar="USCC", help="只计算该主体")
    p.add_argument("--today", help="按此日期计算（默认今天，YYYY-MM-DD）")
    p.add_argument("--digest-dry-run", action="store_true", help="列出此刻将发送的风险预警汇总（不认领、不发送）")
    p.add_argument("--db", metavar="URL", help="数据库地址（默认取配置中的 database.url）")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from db.models import Subject
    from db.session import Database
    from rules.codes import validate_uscc
    from services.database_setup import prepare_database
    from services.evaluation import evaluate_subject, full_run
    from services.risk_digest import run_digest

    try:
        today = dt.date.fromisoformat(args.today) if args.today else dt.datetime.now(settings.tz).date()
    except ValueError:
        print(f"日期格式应为 YYYY-MM-DD：{args.today}", file=sys.stderr)
        return EXIT_UNUSABLE
    real_today = dt.datetime.now(settings.tz).date()
    if not args.digest_dry_run and abs((today - real_today).days) > 1:
        # A stored grade is shown as today's: evaluating "as of" another day would overwrite it.
        print(f"评价结果会保存为今日的评价，--today 只能是今天（{real_today:%Y-%m-%d}）；"
              "预览其他日期的预警请加 --digest-dry-run。", file=sys.stderr)
        return EXIT_UNUSABLE
    db = Database(settings.database.url)
    try:
        await prepare_database(db, settings.region.division_code)
        if args.digest_dry_run:
            result = await run_digest(db, today, None, dry_run=True)
            for d in result.planned:
                print(json.dumps({"account_id": d.account_id, "warnings": [i.label for i in d.items]}, ensure_ascii=False))
            return EXIT_OK
        if args.subject:
            check = validate_uscc(args.subject, repair=True)
            if check.error:
                print(f"统一社会信用代码有误：{check.error}", file=sys.stderr)
                return EXIT_UNUSABLE
            code = check.value
            async with db.transaction() as s:
                subject_id = await s.scalar(select(Subject.id).where(Subject.uscc == code))
            if subject_id is None:
                print(f"档案中没有统一社会信用代码为 {code} 的主体", file=sys.stderr)
                return EXIT_UNUSABLE
            stats = await evaluate_subject(db, subject_id, today)
        else:
            stats = await full_run(db, today)
    except (SQLAlchemyError, OSError) as exc:
        print(f"数据库无法使用：{type(exc).__name__}", file=sys.stderr)
        return EXIT_UNUSABLE
    finally:
        await db.dispose()
    print(json.dumps({"subjects": stats.subjects, "evaluated": stats.evaluated, "grade_changes": stats.grade_changes,
                      "new_warnings": stats.warnings}, ensure_ascii=False))
    return EXIT_OK
