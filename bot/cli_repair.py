"""`creditbot repair …`: repair applications that reach the city from 信用中国 or the provincial
platform, taken in from that platform's export and sent back in the same form, and the deadline scan
by hand — the same use cases the port and the scheduled job call.

- `creditbot repair receive FILE --origin creditchina` reads a CSV or XLSX with the columns 受理编号,
  统一社会信用代码, 文书号, 申请日期 (required), 经办人, 申请材料 (separated by ；), 信用承诺 (是/否);
  all rows or none, every refused row listed.
- `creditbot repair results --origin creditchina --since DATE [--out FILE]` writes the cases closed
  since DATE: the same three key columns, then 办理结果, 理由, 办结日期, 决定书编号, 逾期.
- `creditbot repair deadlines [--today DATE]` lists the reminders and escalations due (and queues
  them, as the daily job does; the bot sends them).

Exit status: 0 done; 2 the input or the database could not be used (one Chinese line, no traceback).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from services.settings import ConfigError, Settings, with_database

EXIT_OK, EXIT_UNUSABLE = 0, 2
REQUIRED = ("受理编号", "统一社会信用代码", "文书号", "申请日期")
RESULT_COLUMNS = ("受理编号", "统一社会信用代码", "文书号", "办理结果", "理由", "办结日期", "决定书编号", "逾期")


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("repair", help="信用修复：接收信用中国、省级平台转来的申请，回传结果，期限扫描")
    sub = p.add_subparsers(dest="repair_command", required=True)
    rec = sub.add_parser("receive", help="导入信用中国（或省级平台）转来的修复申请（全部或全不）")
    rec.add_argument("file", type=Path)
    rec.add_argument("--origin", choices=("creditchina", "province"), default="creditchina")
    res = sub.add_parser("results", help="导出某日以来办结的外部申请结果（回传用）")
    res.add_argument("--origin", choices=("creditchina", "province"), default="creditchina")
    res.add_argument("--since", required=True, help="自该日（含）以来办结，YYYY-MM-DD")
    res.add_argument("--out", type=Path, help="CSV 文件（默认输出到终端）")
    dl = sub.add_parser("deadlines", help="期限提醒与逾期上报（与每日任务相同）")
    dl.add_argument("--today", help="按此日期执行（默认今天，YYYY-MM-DD）")
    for q in sub.choices.values():
        q.add_argument("--db", metavar="URL", help="数据库地址（默认取配置中的 database.url）")


def _date(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise ValueError(f"{what}格式应为 YYYY-MM-DD：{text}") from None


def read_applications(path: Path, origin: str) -> tuple[list[Any], list[str]]:
    """The file's rows as applications, and the problems of rows that cannot even be read."""
    from db.importers.reading import ReadError, open_table
    from services.repair import ExternalApplication

    try:
        table = open_table(path)
    except ReadError as exc:
        return [], [str(exc)]
    rows = iter(table.rows)
    header = next(rows, None)
    if header is None:
        return [], ["文件中没有任何数据"]
    names = [str(c or "").strip() for c in header[1]]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        return [], [f"缺少必填列：{'、'.join(missing)}"]
    apps, problems = [], []
    for row_no, cells in rows:
        values = {n: str(c).strip() if c is not None else "" for n, c in zip(names, cells, strict=False)}
        if not any(values.values()):
            continue
        try:
            received = _date(values["申请日期"], "申请日期")
        except ValueError as exc:
            problems.append(f"第 {row_no} 行：{exc}")
            continue
        apps.append((row_no, ExternalApplication(
            origin, values["受理编号"], values["统一社会信用代码"], values["文书号"], received, values.get("经办人", ""),
            tuple(m for m in values.get("申请材料", "").replace(";", "；").split("；") if m.strip()),
            values.get("信用承诺", "是") not in ("否", "无"),
        )))
    return apps, problems


async def run(args: argparse.Namespace, settings: Settings) -> int:
    from db import migrate
    from db.session import Database
    from services.repair import case_results, policy_from, receive_batch

    try:
        settings = with_database(settings, getattr(args, "db", None))
        since = _date(args.since, "日期") if args.repair_command == "results" else None
        today = _date(args.today, "日期") if getattr(args, "today", None) else dt.datetime.now(settings.tz).date()
    except (ConfigError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_UNUSABLE
    db = Database(settings.database.url)
    try:
        await migrate.upgrade(db)
        if args.repair_command == "receive":
            apps, problems = read_applications(args.file, args.origin)
            if not problems:
                cases, errors = await receive_batch(db, [a for _n, a in apps], policy_from(settings))
                problems = [f"第 {apps[i][0]} 行：{reason}" for i, reason in errors]
            if problems:
                print("\n".join([*problems, "未导入任何申请。"]), file=sys.stderr)
                return EXIT_UNUSABLE
            new = [c for c in cases if c.created]
            for c in new:
                print(f"已登记：申请 {c.request_id} {c.subject_name} {c.record_label}，受理期限 {c.accept_due:%Y-%m-%d}")
            print(f"共 {len(cases)} 件，新登记 {len(new)} 件（其余此前已收到）。")
            return EXIT_OK
        if args.repair_command == "results":
            assert since is not None
            rows = await case_results(db, args.origin, since, settings.tz)
            out = args.out.open("w", encoding="utf-8-sig", newline="") if args.out else sys.stdout
            try:
                writer = csv.writer(out)
                writer.writerow(RESULT_COLUMNS)
                for r in rows:
                    writer.writerow((r.external_ref, r.subject_code or "", r.doc_number, r.result, r.reason,
                                     r.decided_on.isoformat(), r.decision_number or "", r.missed or ""))
            finally:
                if args.out:
                    out.close()
            if args.out:
                print(f"已导出 {len(rows)} 件办结结果：{args.out}")
            return EXIT_OK
        from services.declarations.link_secrets import credit_departments
        from services.repair_deadlines import scan_deadlines

        found = await scan_deadlines(db, today, policy_from(settings), credit_departments(settings.region.division_code),
                                     settings.privacy.id_hash_key)
        for n in found:
            what = "期限提醒" if n.kind == "remind" else "逾期上报"
            print(f"{what}：申请 {n.request_id}，{'受理' if n.stage == 'accept' else '办结'}期限 {n.due:%Y-%m-%d}，通知 {len(n.chats)} 个账号")
        print(f"共 {len(found)} 项（已写入通知队列，由机器人发送）。")
        return EXIT_OK
    finally:
        await db.dispose()
