"""The catalogue files: the packaged national edition and 陕西/安康 supplement parse, every entry
cites a source, and a local supplement may only add what a 地方性法规 grounds (国办发〔2020〕49号).
Also: records keep the catalogue edition they were collected under, and penalties imported without
a grade are graded by rule with the basis kept, a department's own standard included."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from db import catalogue as catalogue_files
from db.importers import samples as S
from db.models import CreditRecord
from db.session import Database
from rules.catalogue import CatalogueError, applies_to
from rules.categories import CATEGORIES
from rules.measures import ListingFact, answer
from services import imports
from services.imports import import_file
from tests.test_lifecycle_support import add_record, add_subject, dept_id

NATIONAL = catalogue_files.DATA_DIR / "catalogue_v2024_1.toml"
SOURCE = '''
[[sources]]
id = "local_reg"
title = "安康市某某条例"
number = "安康市人民代表大会常务委员会公告第1号"
level = "{level}"
address = "https://example.invalid/reg"
confirmed = false
'''
MEASURE = '''
[[measures]]
key = "{key}"
list_types = ["wage_arrears"]
text = "在市级财政专项资金申报中不予受理"
kind = "减损权益"
matters = ["subsidy"]
reaches = ["subject"]
implementer = "市级资金主管部门"
basis = [{{ source = "{source}", article = "第十条" }}]
confirmed = false
'''


def data_dir(tmp_path: Path, local: str, region: str = "610900") -> Path:
    folder = tmp_path / "data"
    folder.mkdir(exist_ok=True)
    shutil.copy(NATIONAL, folder / NATIONAL.name)
    (folder / f"catalogue_local_{region}.toml").write_text(
        f'region = "{region}"\nversion = "2026.9"\nedition_date = 2026-01-01\n{local}', encoding="utf-8"
    )
    return folder


def test_the_packaged_catalogue_cites_a_source_for_everything() -> None:
    c = catalogue_files.load_catalogue("610900")
    assert c.edition == "2024.1+610900/2026.1"
    assert all(m.basis and m.implementer for m in c.measures)
    assert all(t.basis and t.authority and t.authority_roles for t in c.list_types.values())
    # Every category the platform collects lies inside the 2024 catalogue's 13 classes (知识产权 among them).
    assert len(c.categories) == 13 and "知识产权信息" in {k.name for k in c.categories}
    assert all(c.class_of(category) is not None for category in CATEGORIES)
    assert c.class_of("社交媒体言论") is None
    # Only confirmed list types may be proposed; the unconfirmed ones say why.
    proposable = {k for k, t in c.list_types.items() if t.proposable and t.confirmed}
    assert proposable == {"wage_arrears", "procurement_record"}
    assert all(t.note for t in c.list_types.values() if not t.confirmed)


def test_a_local_supplement_adds_measures_grounded_in_a_local_regulation(tmp_path: Path) -> None:
    folder = data_dir(tmp_path, SOURCE.format(level="地方性法规") + MEASURE.format(key="sx.fund", source="local_reg"))
    c = catalogue_files.load_catalogue("610902", folder)  # a county of the city: the city's file applies
    assert c.edition == "2024.1+610900/2026.9"
    listing = ListingFact("严重失信主体名单", "安康市人力资源和社会保障局", dt.date(2026, 1, 5), None, "wage_arrears")
    keys = [m.key for m in answer(c, "法人", [listing], "subsidy").measures]
    assert keys == ["wage_arrears.funding", "wage_arrears.tax_incentive", "sx.fund"]
    assert catalogue_files.load_catalogue("610100", folder).edition == "2024.1"  # 西安: not this file's region
    assert applies_to("610000", "610902") and applies_to("610900", "610981") and not applies_to("610900", "610100")


@pytest.mark.parametrize(
    ("local", "why"),
    [
        (SOURCE.format(level="地方政府规章") + MEASURE.format(key="sx.fund", source="local_reg"), "须以地方性法规为依据"),
        (MEASURE.format(key="sx.fund", source="rsb45"), "须以地方性法规为依据"),
        (SOURCE.format(level="地方性法规") + MEASURE.format(key="wage_arrears.award", source="local_reg"), "不得改动或替换全国清单"),
        (SOURCE.format(level="部门规范性文件") + '''
[[list_types]]
key = "city_only"
name = "本市某某黑名单"
category = "严重失信主体名单"
authority = "市某局"
basis = [{ source = "local_reg", article = "第一条" }]
''', "仅在本地区实施的名单须以地方性法规为依据"),
        (MEASURE.format(key="sx.fund", source="nowhere"), "未登记的来源"),
    ],
)
def test_a_local_supplement_may_not_add_what_no_local_regulation_grounds(tmp_path: Path, local: str, why: str) -> None:
    folder = data_dir(tmp_path, local)
    with pytest.raises(CatalogueError, match=why):
        catalogue_files.load_catalogue("610900", folder)


async def test_records_keep_the_catalogue_edition_they_were_collected_under(db: Database) -> None:
    subject = await add_subject(db)
    rid = await add_record(db, subject, await dept_id(db), "行政处罚", "安市监罚〔2026〕1号", dt.date(2026, 11, 2))
    async with db.transaction() as s:
        record = await s.get(CreditRecord, rid)
    assert record is not None and record.catalogue_edition == catalogue_files.current_edition()


async def test_imported_penalties_are_graded_by_rule_with_the_basis_kept(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    standard = '''
[[severity_standards]]
department = "SCJG"
serious_fine_wan = 5
minor_fine_wan = 0.1
source = "安康市市场监管行政处罚裁量基准（测试）"
confirmed = false
'''
    local = catalogue_files.load_catalogue("610900", data_dir(tmp_path, SOURCE.format(level="地方性法规") + standard))
    monkeypatch.setattr(imports, "current_catalogue", lambda: local)
    await dept_id(db, "SCJG")
    rows = []
    for i, (kinds, fine, remark) in enumerate(
        [("警告", "", ""), ("罚款", "0.02", "适用简易程序当场处罚"), ("罚款", "6", ""), ("罚款", "1", ""), ("吊销许可证件", "", "")], 1
    ):
        row = S.penalty_row(i, decision=dt.date(2026, 11, 2), person_every=0)
        row.update({"处罚类别": kinds, "罚款金额（万元）": fine, "处罚内容": kinds, "备注": remark,
                    "数据来源单位": "", "数据来源单位统一社会信用代码": "", "处罚机关": "", "处罚机关统一社会信用代码": ""})
        rows.append(row)
    path = S.write_csv(tmp_path / "处罚.csv", S.HEADERS[("penalty", "2021")], rows)
    report = await import_file(db, path, id_key="k", today=dt.date(2026, 11, 30), dept_code="SCJG")
    assert report.written, report.errors
    async with db.transaction() as s:
        found = {r.doc_number: (r.severity, r.fields["严重程度依据"], r.publication_end)
                 for r in (await s.scalars(select(CreditRecord))).all()}
    grade = {doc: sev for doc, (sev, _basis, _end) in found.items()}
    assert grade == {"安市监罚〔2026〕1号": "轻微", "安市监罚〔2026〕2号": "轻微", "安市监罚〔2026〕3号": "严重",
                     "安市监罚〔2026〕4号": "一般", "安市监罚〔2026〕5号": "严重"}
    assert "第五十一条" in found["安市监罚〔2026〕2号"][1]
    assert "本部门裁量基准" in found["安市监罚〔2026〕3号"][1] and "（测试）" in found["安市监罚〔2026〕3号"][1]
    # The grade drives the publication period (2026 measures: 严重 at most 3 years, 一般 1 year).
    assert found["安市监罚〔2026〕3号"][2] == dt.date(2029, 11, 2) and found["安市监罚〔2026〕4号"][2] == dt.date(2027, 11, 2)
