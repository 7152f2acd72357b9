"""Real-shaped template files, generated: for the tests, the benchmark and demonstrations.

Generated rather than checked in so that every template, both editions and every encoding are
covered from one description, and so that a 100,000-row benchmark file costs no repository space.
All codes are valid (check characters computed), all people fictitious.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from rules.codes import complete_ric, complete_uscc

HEADERS: dict[tuple[str, str | None], list[str]] = {
    ("penalty", "2021"): [
        "行政相对人名称", "行政相对人类别", "行政相对人代码_1（统一社会信用代码）", "行政相对人代码_2（工商注册号）",
        "行政相对人代码_3（组织机构代码）", "行政相对人代码_4（税务登记号）", "行政相对人代码_5（事业单位证书号）",
        "行政相对人代码_6（社会组织登记证号）", "法定代表人", "证件类型", "证件号码", "行政处罚决定书文号",
        "违法行为类型", "违法事实", "处罚依据", "处罚类别", "处罚内容", "罚款金额（万元）",
        "没收违法所得、没收非法财物的金额（万元）", "暂扣或吊销证照名称及编号", "处罚决定日期", "处罚有效期",
        "公示截止期", "处罚机关", "处罚机关统一社会信用代码", "数据来源单位", "数据来源单位统一社会信用代码", "备注",
    ],
    ("penalty", "2016"): [
        "行政处罚决定书文号", "处罚名称", "处罚类别1", "处罚类别2", "处罚事由", "处罚依据", "行政相对人名称",
        "行政相对人代码_1", "行政相对人代码_2", "行政相对人代码_3", "行政相对人代码_4", "行政相对人代码_5",
        "法定代表人姓名", "处罚结果", "处罚决定日期", "处罚机关", "当前状态", "地方编码", "数据更新时间戳", "备注",
    ],
    ("license", "2021"): [
        "行政相对人名称", "行政相对人类别", "行政相对人代码_1（统一社会信用代码）", "行政相对人代码_2（工商注册号）",
        "行政相对人代码_3（组织机构代码）", "行政相对人代码_4（税务登记号）", "行政相对人代码_5（事业单位证书号）",
        "行政相对人代码_6（社会组织登记证号）", "法定代表人", "证件类型", "证件号码", "行政许可决定文书名称",
        "行政许可决定文书号", "许可类别", "许可证书名称", "许可编号", "许可内容", "许可决定日期", "有效期自",
        "有效期至", "许可机关", "许可机关统一社会信用代码", "当前状态", "数据来源单位", "数据来源单位统一社会信用代码",
        "备注",
    ],
    ("license", "2016"): [
        "行政许可决定书文号", "项目名称", "审批类别", "许可内容", "行政相对人名称", "行政相对人代码_1",
        "行政相对人代码_2", "行政相对人代码_3", "行政相对人代码_4", "行政相对人代码_5", "法定代表人姓名",
        "许可决定日期", "许可截止期", "许可机关", "当前状态", "地方编码", "数据更新时间戳", "备注",
    ],
    ("subjects", None): [
        "主体名称", "主体类别", "统一社会信用代码", "证件类型", "证件号码", "法定代表人", "所属区划代码", "注册地址",
        "成立日期", "登记状态", "曾用名", "简称",
    ],
    ("generic", None): [
        "信息类别", "主体名称", "主体类别", "统一社会信用代码", "证件号码", "文书号", "决定日期", "事项名称", "内容",
        "严重程度", "有效期至", "公示截止期", "数据来源单位", "数据来源单位统一社会信用代码", "备注",
    ],
}

AUTHORITY = "安康市市场监督管理局"
# The shipped region's 市场监督管理局 (db/data/region_610900.toml, SCJGJ): a collector of that department
# uploads these files as its own; another department may not (db.importers.ownership).
AUTHORITY_USCC = "11610900090000070G"
_SURNAMES = "王李张刘陈杨赵黄周吴"
_TRADES = ("建材", "商贸", "餐饮", "农业", "物流", "科技", "药房", "建筑")


def uscc(i: int, prefix: str = "91610902") -> str:
    """A valid USCC; `prefix` picks authority/type/division (e.g. "92" for 个体工商户, "N2" for collectives)."""
    return complete_uscc(prefix + f"{i:09d}")


def ric(i: int) -> str:
    """A valid (fictitious) resident ID number."""
    birth = dt.date(1970, 1, 1) + dt.timedelta(days=(i * 37) % 12000)
    return complete_ric("610902" + birth.strftime("%Y%m%d") + f"{i % 1000:03d}")


def company(i: int) -> str:
    return f"安康市{_TRADES[i % len(_TRADES)]}{i:06d}有限公司"


def person(i: int) -> str:
    return _SURNAMES[i % len(_SURNAMES)] + "某" + "甲乙丙丁"[i % 4]


def penalty_row(i: int, edition: str = "2021", decision: dt.date = dt.date(2025, 3, 3), person_every: int = 5) -> dict[str, str]:
    """One 行政处罚 row; every `person_every`-th row concerns a natural person (0 = never)."""
    is_person = person_every and i % person_every == 0
    doc = f"安市监罚〔{decision.year}〕{i}号"
    fine = f"{(i % 50) / 10 + 0.1:.1f}"
    if edition == "2016":
        return {
            "行政处罚决定书文号": doc, "处罚名称": "未按规定公示年度报告", "处罚类别1": "罚款", "处罚类别2": "警告",
            "处罚事由": "未按规定期限公示年度报告", "处罚依据": "《企业信息公示暂行条例》第十八条",
            "行政相对人名称": person(i) if is_person else company(i),
            "行政相对人代码_1": "" if is_person else uscc(i), "行政相对人代码_2": "",
            "行政相对人代码_3": "", "行政相对人代码_4": "", "行政相对人代码_5": ric(i) if is_person else "",
            "法定代表人姓名": "" if is_person else person(i + 1), "处罚结果": f"罚款{fine}万元",
            "处罚决定日期": decision.strftime("%Y/%m/%d"), "处罚机关": AUTHORITY, "当前状态": "正常",
            "地方编码": "610900", "数据更新时间戳": "2025-03-10 09:00:00", "备注": "",
        }
    return {
        "行政相对人名称": person(i) if is_person else company(i),
        "行政相对人类别": "自然人" if is_person else "法人及非法人组织",
        "行政相对人代码_1（统一社会信用代码）": "" if is_person else uscc(i),
        "行政相对人代码_2（工商注册号）": "", "行政相对人代码_3（组织机构代码）": "",
        "行政相对人代码_4（税务登记号）": "", "行政相对人代码_5（事业单位证书号）": "",
        "行政相对人代码_6（社会组织登记证号）": "",
        "法定代表人": "" if is_person else person(i + 1),
        "证件类型": "身份证" if is_person else "", "证件号码": ric(i) if is_person else "",
        "行政处罚决定书文号": doc, "违法行为类型": "未按规定公示年度报告",
        "违法事实": "当事人未按规定期限公示年度报告", "处罚依据": "《企业信息公示暂行条例》第十八条",
        "处罚类别": "罚款", "处罚内容": f"罚款人民币{fine}万元", "罚款金额（万元）": fine,
        "没收违法所得、没收非法财物的金额（万元）": "", "暂扣或吊销证照名称及编号": "",
        "处罚决定日期": decision.isoformat(), "处罚有效期": "", "公示截止期": "",
        "处罚机关": AUTHORITY, "处罚机关统一社会信用代码": AUTHORITY_USCC,
        "数据来源单位": AUTHORITY, "数据来源单位统一社会信用代码": AUTHORITY_USCC, "备注": "",
    }


def license_row(i: int, edition: str = "2021", decision: dt.date = dt.date(2025, 3, 3)) -> dict[str, str]:
    doc = f"安市监许〔{decision.year}〕{i}号"
    until = decision.replace(year=decision.year + 5)
    if edition == "2016":
        return {
            "行政许可决定书文号": doc, "项目名称": "食品经营许可", "审批类别": "普通", "许可内容": "预包装食品销售",
            "行政相对人名称": company(i), "行政相对人代码_1": uscc(i), "行政相对人代码_2": "",
            "行政相对人代码_3": "", "行政相对人代码_4": "", "行政相对人代码_5": "",
            "法定代表人姓名": person(i), "许可决定日期": decision.isoformat(), "许可截止期": until.isoformat(),
            "许可机关": AUTHORITY, "当前状态": "正常", "地方编码": "610900",
            "数据更新时间戳": "2025-03-10 09:00:00", "备注": "",
        }
    return {
        "行政相对人名称": company(i), "行政相对人类别": "法人及非法人组织",
        "行政相对人代码_1（统一社会信用代码）": uscc(i), "行政相对人代码_2（工商注册号）": "",
        "行政相对人代码_3（组织机构代码）": "", "行政相对人代码_4（税务登记号）": "",
        "行政相对人代码_5（事业单位证书号）": "", "行政相对人代码_6（社会组织登记证号）": "",
        "法定代表人": person(i), "证件类型": "", "证件号码": "",
        "行政许可决定文书名称": "食品经营许可决定书", "行政许可决定文书号": doc, "许可类别": "普通",
        "许可证书名称": "食品经营许可证", "许可编号": f"JY1610902{i:07d}", "许可内容": "预包装食品销售",
        "许可决定日期": decision.isoformat(), "有效期自": decision.isoformat(), "有效期至": until.isoformat(),
        "许可机关": AUTHORITY, "许可机关统一社会信用代码": AUTHORITY_USCC, "当前状态": "有效",
        "数据来源单位": AUTHORITY, "数据来源单位统一社会信用代码": AUTHORITY_USCC, "备注": "",
    }


def subject_row(i: int, person_every: int = 4) -> dict[str, str]:
    is_person = person_every and i % person_every == 0
    return {
        "主体名称": person(i) if is_person else company(i),
        "主体类别": "自然人" if is_person else "法人",
        "统一社会信用代码": "" if is_person else uscc(i),
        "证件类型": "居民身份证" if is_person else "", "证件号码": ric(i) if is_person else "",
        "法定代表人": "" if is_person else person(i + 1), "所属区划代码": "610902",
        "注册地址": "陕西省安康市汉滨区兴安路1号", "成立日期": "2015-06-01", "登记状态": "存续",
        "曾用名": "" if is_person else f"汉滨区{_TRADES[i % len(_TRADES)]}{i:06d}商行；旧名{i}",
        "简称": "" if is_person else f"{_TRADES[i % len(_TRADES)]}{i:06d}",
    }


def generic_row(i: int, category: str = "行政奖励", decision: dt.date = dt.date(2025, 3, 3)) -> dict[str, str]:
    return {
        "信息类别": category, "主体名称": company(i), "主体类别": "法人", "统一社会信用代码": uscc(i),
        "证件号码": "", "文书号": f"安政奖〔{decision.year}〕{i}号", "决定日期": decision.isoformat(),
        "事项名称": "守信激励", "内容": "评为诚信示范企业", "严重程度": "", "有效期至": "", "公示截止期": "",
        "数据来源单位": "安康市发展和改革委员会", "数据来源单位统一社会信用代码": uscc(7, "11610900"), "备注": "",
    }


def write_csv(path: Path, headers: Sequence[str], rows: Iterable[dict[str, str]], encoding: str = "utf-8") -> Path:
    """`encoding`: "utf-8", "utf-8-sig" (Excel's BOM) or "gbk"/"gb18030" (what older systems write)."""
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        for row in rows:
            w.writerow([row.get(h, "") for h in headers])
    return path


def write_xlsx(path: Path, headers: Sequence[str], rows: Iterable[dict[str, str]], sheet: str = "Sheet1") -> Path:
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    ws.append(list(headers))
    for row in rows:
        ws.append([row.get(h, "") for h in headers])
    wb.save(path)
    return path
