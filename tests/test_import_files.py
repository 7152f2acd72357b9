"""Importer end to end on both databases: every template and edition, in CSV UTF-8, CSV GBK and XLSX;
each kind of bad row (nothing written); re-import idempotence and correction history."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from db.importers import samples as S
from db.models import CreditRecord, Department, RecordChange, Subject, SubjectAlias
from db.session import Database
from rules.masking import id_match_key
from rules.workcal import WorkCalendar
from services.imports import check_file, format_report, import_file

KEY = "test-id-key"
TODAY = dt.date(2025, 6, 30)
ROWS: dict[tuple[str, str | None], Callable[[int], dict[str, str]]] = {
    ("penalty", "2021"): lambda i: S.penalty_row(i, "2021"),
    ("penalty", "2016"): lambda i: S.penalty_row(i, "2016"),
    ("license", "2021"): lambda i: S.license_row(i, "2021"),
    ("license", "2016"): lambda i: S.license_row(i, "2016"),
    ("subjects", None): S.subject_row,
    ("generic", None): S.generic_row,
}


def write(path: Path, kind: str, edition: str | None, rows: list[dict[str, str]], fmt: str = "csv") -> Path:
    headers = S.HEADERS[(kind, edition)]
    if fmt == "xlsx":
        return S.write_xlsx(path.with_suffix(".xlsx"), headers, rows)
    encoding = {"csv": "utf-8", "csv-bom": "utf-8-sig", "csv-gbk": "gbk"}[fmt]
    return S.write_csv(path.with_suffix(".csv"), headers, rows, encoding)


def rows_of(kind: str, edition: str | None, n: int = 6) -> list[dict[str, str]]:
    return [ROWS[(kind, edition)](i) for i in range(1, n + 1)]


async def run(db: Database, path: Path, **kw: Any):  # type: ignore[no-untyped-def]
    kw.setdefault("today", TODAY)
    return await import_file(db, path, id_key=KEY, **kw)


async def count(db: Database, model: Any) -> int:
    async with db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def assert_nothing_written(db: Database) -> None:
    for model in (Subject, CreditRecord, RecordChange, SubjectAlias):
        assert await count(db, model) == 0, model.__name__


async def dump_all_text(db: Database) -> str:
    """Every value of the tables an import writes, as one string (to search for clear ID numbers)."""
    parts = []
    async with db.transaction() as s:
        for table in ("subjects", "credit_records", "record_changes", "subject_aliases"):
            for row in await s.execute(text(f"SELECT * FROM {table}")):
                parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


@pytest.mark.parametrize("fmt", ["csv", "csv-bom", "csv-gbk", "xlsx"])
@pytest.mark.parametrize(("kind", "edition"), list(ROWS))
async def test_every_template_and_encoding(
    db: Database, tmp_path: Path, kind: str, edition: str | None, fmt: str
) -> None:
    path = write(tmp_path / f"{kind}{edition}", kind, edition, rows_of(kind, edition), fmt)
    report = await run(db, path)
    assert report.ok, format_report(report)
    assert (report.kind, report.edition) == (kind, edition)
    assert report.written and report.rows_read == 6 and report.new == 6
    if fmt == "csv-gbk":
        assert report.encoding == "gb18030"
    if kind == "subjects":
        assert await count(db, Subject) == 6
        assert await count(db, SubjectAlias) > 0
    else:
        assert await count(db, CreditRecord) == 6
        assert await count(db, Subject) == report.subjects_created > 0
    # The clear ID number is never stored; its keyed hash is.
    everything = await dump_all_text(db)
    people = [r for r in rows_of(kind, edition) if "某" in (r.get("行政相对人名称") or r.get("主体名称") or "")]
    for r in people:
        clear = r.get("证件号码") or r.get("行政相对人代码_5")
        assert clear and clear not in everything
        async with db.transaction() as s:
            found = await s.scalar(select(Subject.id_masked).where(Subject.id_hash == id_match_key(clear, KEY)))
        assert found == clear[:6] + "********" + clear[-4:]


async def test_kind_option_and_editions_map_onto_one_shape(db: Database, tmp_path: Path) -> None:
    """Both editions of the same penalty land on the same archive columns and fields."""
    r16 = await run(db, write(tmp_path / "a", "penalty", "2016", rows_of("penalty", "2016", 2)), kind="penalty")
    assert r16.ok and r16.edition == "2016"
    async with db.transaction() as s:
        rec = (await s.scalars(select(CreditRecord).order_by(CreditRecord.id))).first()
        assert rec is not None
        assert rec.category == "行政处罚" and rec.title == "未按规定公示年度报告"
        assert rec.fields["违法事实"] == "未按规定期限公示年度报告"
        assert rec.fields["处罚类别"] == "罚款；警告"
        assert rec.fields["处罚机关"] == S.AUTHORITY
        assert rec.source_key == S.AUTHORITY  # 2016 carries no unit USCC and no --dept: the name
        assert rec.severity == "一般" and rec.rule_edition == "2023"
        assert rec.publication_end is not None
    wrong = await run(db, write(tmp_path / "b", "penalty", "2021", rows_of("penalty", "2021", 1)), kind="subjects")
    assert not wrong.written and wrong.fatal and "不符" in wrong.fatal


BAD_CASES: list[tuple[str, str | None, str, Callable[[dict[str, str]], None], str, str]] = [
    # (kind, edition, label, mutate the bad row, column, words expected in the reason)
    ("penalty", "2021", "bad-uscc", lambda r: r.update({"行政相对人代码_1（统一社会信用代码）": "91610902000000001X"}),
     "行政相对人代码_1（统一社会信用代码）", "校验位"),
    ("penalty", "2021", "uscc-letter", lambda r: r.update({"行政相对人代码_1（统一社会信用代码）": "9161090200000000IO"}),
     "行政相对人代码_1（统一社会信用代码）", "不是统一社会信用代码允许的字符"),
    ("penalty", "2021", "bad-id", lambda r: r.update({"行政相对人名称": "张某", "行政相对人类别": "自然人",
     "行政相对人代码_1（统一社会信用代码）": "", "证件号码": "610902198503120011"}), "证件号码", "身份证号码有误"),
    ("penalty", "2016", "bad-id-2016", lambda r: r.update({"行政相对人代码_1": "", "行政相对人代码_5": "61090219850230001X"}),
     "行政相对人代码_5", "出生日期"),
    ("penalty", "2021", "missing-doc", lambda r: r.update({"行政处罚决定书文号": ""}), "行政处罚决定书文号", "必填项为空"),
    ("penalty", "2021", "missing-name", lambda r: r.update({"行政相对人名称": " "}), "行政相对人名称", "必填项为空"),
    ("penalty", "2021", "impossible-date", lambda r: r.update({"处罚决定日期": "2023-02-30"}), "处罚决定日期", "日期不存在"),
    ("penalty", "2021", "garbage-date", lambda r: r.update({"处罚决定日期": "上周三"}), "处罚决定日期", "日期格式无法识别"),
    ("penalty", "2021", "future-date", lambda r: r.update({"处罚决定日期": "2025-07-15"}), "处罚决定日期", "晚于今天"),
    ("penalty", "2021", "pub-end-before", lambda r: r.update({"公示截止期": "2025-01-01"}), "公示截止期", "早于决定日期"),
    ("generic", None, "unknown-category", lambda r: r.update({"信息类别": "表扬信"}), "信息类别", "未知的信息类别"),
    ("generic", None, "unknown-severity", lambda r: r.update({"信息类别": "行政处罚", "严重程度": "特别严重"}),
     "严重程度", "未知的严重程度"),
    ("license", "2021", "bad-license-kind", lambda r: r.update({"许可类别": "随便"}), "许可类别", "许可类别"),
    ("license", "2016", "bad-month-2016", lambda r: r.update({"许可决定日期": "2025/13/01"}), "许可决定日期", "日期不存在"),
    ("subjects", None, "bad-kind", lambda r: r.update({"主体类别": "外星人"}), "主体类别", "无法识别"),
    ("subjects", None, "bad-division", lambda r: r.update({"所属区划代码": "6109"}), "所属区划代码", "6 位或 12 位"),
    ("subjects", None, "company-without-uscc", lambda r: r.update(
        {"主体类别": "法人", "主体名称": "安康市某某有限公司", "统一社会信用代码": "", "证件号码": ""}), "统一社会信用代码", "须填写统一社会信用代码"),
]


@pytest.mark.parametrize(("kind", "edition", "label", "mutate", "column", "words"), BAD_CASES, ids=[c[2] for c in BAD_CASES])
async def test_bad_row_writes_nothing(
    db: Database, tmp_path: Path, kind: str, edition: str | None, label: str,
    mutate: Callable[[dict[str, str]], None], column: str, words: str,
) -> None:
    rows = rows_of(kind, edition, 5)
    mutate(rows[3])  # file row 5 (header is row 1)
    fmt = "xlsx" if label in ("bad-id", "impossible-date") else "csv-gbk" if label == "bad-uscc" else "csv"
    report = await run(db, write(tmp_path / label, kind, edition, rows, fmt))
    assert not report.written
    assert report.error_count == 1, format_report(report)
    err = report.errors[0]
    assert (err.row, err.column) == (5, column)
    assert words in err.reason
    assert report.rows_read == 5
    await assert_nothing_written(db)
    assert f"第 5 行【{column}】" in format_report(report)


async def test_duplicate_document_in_one_file(db: Database, tmp_path: Path) -> None:
    rows = rows_of("penalty", "2021", 4)
    rows[2]["行政处罚决定书文号"] = rows[0]["行政处罚决定书文号"]
    report = await run(db, write(tmp_path / "dup", "penalty", "2021", rows))
    assert [(e.row, e.column) for e in report.errors] == [(4, "行政处罚决定书文号")]
    assert "与第 2 行重复" in report.errors[0].reason
    await assert_nothing_written(db)


async def test_missing_required_column(db: Database, tmp_path: Path) -> None:
    headers = [h for h in S.HEADERS[("penalty", "2021")] if h != "处罚决定日期"]
    path = S.write_csv(tmp_path / "nodate.csv", headers, rows_of("penalty", "2021", 3))
    report = await run(db, path)
    assert [(e.row, e.column, e.reason) for e in report.errors] == [(1, "处罚决定日期", "缺少必填列")]
    assert not report.written
    await assert_nothing_written(db)


async def test_error_in_a_late_batch_rolls_back_earlier_batches(db: Database, tmp_path: Path) -> None:
    rows = rows_of("penalty", "2021", 250)
    rows[-1]["处罚决定日期"] = "2099-01-01"
    report = await run(db, write(tmp_path / "late", "penalty", "2021", rows), batch_size=50)
    assert report.error_count == 1 and report.errors[0].row == 251
    assert report.new == 249  # classification still reported
    await assert_nothing_written(db)


async def test_many_errors_all_reported(db: Database, tmp_path: Path) -> None:
    rows = rows_of("penalty", "2021", 6)
    rows[0]["处罚决定日期"] = "2023-13-01"
    rows[2]["行政相对人代码_1（统一社会信用代码）"] = "12345"
    rows[4]["罚款金额（万元）"] = "一万"
    report = await run(db, write(tmp_path / "many", "penalty", "2021", rows))
    assert [e.row for e in report.errors] == [2, 4, 6]
    assert "18 位" in report.errors[1].reason
    assert "应为数字" in report.errors[2].reason
    await assert_nothing_written(db)


async def test_reimport_changes_nothing_and_correction_keeps_history(db: Database, tmp_path: Path) -> None:
    rows = rows_of("penalty", "2021", 5)
    path = write(tmp_path / "p", "penalty", "2021", rows)
    first = await run(db, path)
    assert first.new == 5 and first.written
    async with db.transaction() as s:
        before = {r.id: r.updated_at for r in await s.scalars(select(CreditRecord))}

    again = await run(db, path, today=TODAY + dt.timedelta(days=40))  # later date: lateness is not redone
    assert (again.new, again.updating, again.unchanged) == (0, 0, 5)
    assert await count(db, RecordChange) == 0
    async with db.transaction() as s:
        assert {r.id: r.updated_at for r in await s.scalars(select(CreditRecord))} == before

    rows[1]["罚款金额（万元）"] = "3.5"
    rows[1]["处罚内容"] = "罚款人民币3.5万元"
    corrected = write(tmp_path / "p-corrected", "penalty", "2021", rows, "xlsx")
    report = await run(db, corrected, file_label="更正-第二批.xlsx")
    assert (report.new, report.updating, report.unchanged) == (0, 1, 4)
    assert await count(db, CreditRecord) == 5
    async with db.transaction() as s:
        change = (await s.scalars(select(RecordChange))).one()
        rec = await s.get(CreditRecord, change.record_id)
    assert rec is not None and rec.id in before  # updated in place
    assert rec.content == "罚款人民币3.5万元" and rec.fields["罚款金额（万元）"] == 3.5
    assert change.source_file == "更正-第二批.xlsx"
    assert change.changes["fields.罚款金额（万元）"] == [0.3, 3.5]
    assert change.changes["content"] == ["罚款人民币0.3万元", "罚款人民币3.5万元"]
    assert change.changed_at is not None
    assert (await run(db, corrected)).updating == 0


async def test_subjects_update_and_name_history(db: Database, tmp_path: Path) -> None:
    rows = rows_of("subjects", None, 3)
    await run(db, write(tmp_path / "s1", "subjects", None, rows))
    old_name = rows[1]["主体名称"]
    rows[1]["主体名称"] = "安康市新名字有限公司"
    rows[1]["注册地址"] = ""  # blank keeps what the archive has
    report = await run(db, write(tmp_path / "s2", "subjects", None, rows))
    assert (report.new, report.updating, report.unchanged) == (0, 1, 2)
    async with db.transaction() as s:
        subj = (await s.scalars(select(Subject).where(Subject.uscc == rows[1]["统一社会信用代码"]))).one()
        assert subj.name == "安康市新名字有限公司" and subj.address == "陕西省安康市汉滨区兴安路1号"
        assert (old_name, "曾用名") in {(a.alias, a.kind) for a in subj.aliases}
        change = (await s.scalars(select(RecordChange))).one()
    assert change.subject_id == subj.id and change.record_id is None
    assert change.changes["name"] == [old_name, "安康市新名字有限公司"]


async def test_records_attach_to_existing_subjects(db: Database, tmp_path: Path) -> None:
    await run(db, write(tmp_path / "s", "subjects", None, rows_of("subjects", None, 10)))
    n_subjects = await count(db, Subject)
    rows = [S.penalty_row(i, "2021", person_every=4) for i in range(1, 11)]  # persons 4, 8 as in subjects
    report = await run(db, write(tmp_path / "p", "penalty", "2021", rows))
    assert report.ok and report.subjects_created == 0
    assert await count(db, Subject) == n_subjects
    async with db.transaction() as s:
        person = (await s.scalars(select(Subject).where(Subject.id_hash == id_match_key(S.ric(4), KEY)))).one()
        assert person.kind == "自然人" and person.name == S.person(4)
        assert await s.scalar(select(func.count()).where(CreditRecord.subject_id == person.id)) == 1


async def test_department_option(db: Database, tmp_path: Path) -> None:
    dept_uscc = S.uscc(55, "11610900")
    async with db.transaction() as s:
        s.add(Department(code="SCJG", name="安康市市场监督管理局", division_code="610900", uscc=dept_uscc))
    unknown = await run(db, write(tmp_path / "a", "penalty", "2016", rows_of("penalty", "2016", 2)), dept_code="NOPE")
    assert unknown.fatal and "NOPE" in unknown.fatal and not unknown.written
    assert "未写入任何数据" in format_report(unknown)
    await assert_nothing_written(db)

    r16 = await run(db, write(tmp_path / "b", "penalty", "2016", rows_of("penalty", "2016", 2)), dept_code="SCJG")
    r21 = await run(db, write(tmp_path / "c", "license", "2021", rows_of("license", "2021", 2)), dept_code="SCJG")
    assert r16.ok
    # The 2021 file names another unit's USCC (S.AUTHORITY_USCC): not this department's rows.
    assert not r21.ok and not r21.written and r21.error_count == 4  # 2 rows x (数据来源单位, 许可机关) codes
    assert {e.row for e in r21.errors} == {2, 3}
    assert all("不是本部门" in e.reason and "统一社会信用代码" in (e.column or "") for e in r21.errors)
    async with db.transaction() as s:
        recs = (await s.scalars(select(CreditRecord).order_by(CreditRecord.id))).all()
        dept_id = await s.scalar(select(Department.id))
    assert {r.department_id for r in recs} == {dept_id}
    assert [r.source_key for r in recs] == [dept_uscc, dept_uscc]
    assert recs[0].source_name == S.AUTHORITY


async def test_check_file_writes_nothing(db: Database, tmp_path: Path) -> None:
    path = write(tmp_path / "p", "penalty", "2021", rows_of("penalty", "2021", 5))
    report = await check_file(db, path, id_key=KEY, today=TODAY)
    assert report.ok and not report.written and report.new == 5 and report.subjects_created == 5
    assert "检查通过" in format_report(report)
    # The chat upload keeps these for reminders and confirmation: no second read of the file.
    assert report.categories == {"行政处罚": 5}
    decided = min(dt.date.fromisoformat(r["处罚决定日期"]) for r in rows_of("penalty", "2021", 5))
    assert report.earliest_due == WorkCalendar().due_date("行政处罚", decided).due
    await assert_nothing_written(db)
    dry = await run(db, path, dry_run=True)
    assert dry.new == 5 and not dry.written
    await assert_nothing_written(db)


async def test_severity_publication_and_lateness(db: Database, tmp_path: Path) -> None:
    rows = rows_of("penalty", "2021", 3)
    rows[0].update({"处罚类别": "吊销营业执照", "处罚决定日期": "2025-06-03"})  # inferred 严重
    rows[1].update({"处罚类别": "警告", "罚款金额（万元）": "", "公示截止期": "2025-12-31"})  # explicit end wins
    headers = [*S.HEADERS[("penalty", "2021")], "严重程度"]
    rows[2].update({"严重程度": "轻微", "违法行为类型": "食品经营许可证未公示"})
    path = S.write_csv(tmp_path / "sev.csv", headers, rows)
    report = await run(db, path)
    assert report.ok, format_report(report)
    async with db.transaction() as s:
        recs = (await s.scalars(select(CreditRecord).order_by(CreditRecord.id))).all()
    assert [r.severity for r in recs] == ["严重", "轻微", "轻微"]
    assert recs[0].publication_end == dt.date(2028, 6, 3) and recs[0].rule_edition == "2023"
    assert recs[1].publication_end == dt.date(2025, 12, 31)
    assert recs[2].publication_end == dt.date(2028, 3, 3)  # 2023 edition, special field (食品): 3 years max
    # Decided 2025-03-03, due 7 working days later (2025-03-12); imported 2025-06-30.
    assert recs[1].late_working_days > 60
    assert recs[0].late_working_days > 10


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "空"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "二进制"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        ("姓名,年龄\n张三,30\n".encode(), "无法识别"),
        (b"PK\x03\x04 not really a zip", "Excel"),
    ],
    ids=["empty", "binary", "xls", "unknown-template", "broken-xlsx"],
)
async def test_unusable_files_are_one_line(db: Database, tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(content)
    report = await run(db, path)
    assert report.fatal and reason in report.fatal and "\n" not in report.fatal
    assert not report.written
    await assert_nothing_written(db)
