"""Grading a penalty as 轻微 / 一般 / 严重 by rule, with the basis recorded.

Departments often leave the grade blank, yet it decides the publication window (rules.publication)
and the evaluation (rules.evaluation). The rule, in order, with the basis each grade records:
1. the kinds the 行政处罚法 (2021) lists in 第九条 that end or bar an activity — 吊销许可证件,
   责令关闭, 限制从业, 责令停产停业, 限制开展生产经营活动, 行政拘留 — are 严重;
2. a fine at or above the department's own standard (its 裁量基准, given with its source in the
   local catalogue file) is 严重; a fine at or below its minor figure, alone or with a warning, 轻微;
3. a very large fine is 严重: the law sets no figure, so the platform's threshold is 100 万元 by
   default — far above the 较大数额罚款 hearing thresholds local rules use (usually 1-10 万元);
4. a penalty decided by the 简易程序 (当场处罚, 行政处罚法第五十一条: small fines or a warning) is 轻微;
5. 警告 / 通报批评 alone, without a fine, is 轻微;
6. everything else (fines below the standards, confiscation, 暂扣, 降低资质等级) is 一般.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import NamedTuple

from rules.catalogue import SeverityStandard


@dataclass
class SeverityRules:
    minor_kinds: tuple[str, ...] = ("警告", "通报批评")
    severe_kinds: tuple[str, ...] = (
        "吊销",  # 吊销许可证件 / 吊销营业执照 / 吊销执照 and the shorthand people write
        "责令关闭",
        "限制从业",
        "责令停产停业",
        "责令停业",
        "责令停产",
        "限制开展生产经营活动",
        "行政拘留",
    )
    fine_threshold_wan: float | None = 100.0
    # Words around a kind that do not add a penalty ("给予警告的行政处罚"); removed before judging 轻微.
    filler: tuple[str, ...] = ("给予", "予以", "处以", "并处", "决定", "作出", "行政处罚", "处罚", "的", "和", "及", "并")
    # A department's own standard (rules.catalogue.SeverityStandard), when the catalogue has one.
    dept_serious_fine_wan: float | None = None
    dept_minor_fine_wan: float | None = None
    dept_source: str = ""


DEFAULT_SEVERITY_RULES = SeverityRules()
SUMMARY_WORDS = ("简易程序", "当场处罚", "当场作出")


class Graded(NamedTuple):
    severity: str
    basis: str  # why, in Chinese: kept with the record (fields["严重程度依据"])


_SEPARATORS = re.compile(r"[\s,，;；、/|。.:：()（）\[\]【】+＋&]+")


def grade_penalty(
    penalty_kinds: str, fine_wan: float | None = None, rules: SeverityRules = DEFAULT_SEVERITY_RULES, procedure: str = ""
) -> Graded:
    """The grade and its basis (module doc). `penalty_kinds`: the 处罚类别 text (or the content);
    `fine_wan`: the fine in 万元; `procedure`: any text that may name the 简易程序 (content, 备注)."""
    text = unicodedata.normalize("NFKC", penalty_kinds or "")
    severe = next((kind for kind in rules.severe_kinds if kind in text), None)
    if severe:
        return Graded("严重", f"处罚种类含“{severe}”，按定级规则为严重（种类见《行政处罚法》第九条）")
    fined = fine_wan is not None and fine_wan > 0
    if fined and rules.dept_serious_fine_wan is not None and fine_wan >= rules.dept_serious_fine_wan:  # type: ignore[operator]
        return Graded("严重", f"罚款{fine_wan:g}万元，达到本部门裁量基准的严重标准（{rules.dept_serious_fine_wan:g}万元，{rules.dept_source}）")
    if fined and rules.fine_threshold_wan is not None and fine_wan >= rules.fine_threshold_wan:  # type: ignore[operator]
        return Graded("严重", f"罚款{fine_wan:g}万元，达到平台配置的严重标准（{rules.fine_threshold_wan:g}万元）")
    if any(word in unicodedata.normalize("NFKC", f"{text}{procedure}") for word in SUMMARY_WORDS):
        return Graded("轻微", "适用简易程序当场作出（《行政处罚法》第五十一条），按定级规则为轻微")
    rest = _SEPARATORS.sub("", text)
    minor_only = any(kind in rest for kind in rules.minor_kinds)
    for word in (*rules.minor_kinds, *rules.filler):
        rest = rest.replace(word, "")
    if minor_only and rest == "" and not fined:
        return Graded("轻微", "处罚种类仅为警告、通报批评，按定级规则为轻微")
    if fined and rules.dept_minor_fine_wan is not None and fine_wan <= rules.dept_minor_fine_wan and rest in ("", "罚款"):  # type: ignore[operator]
        return Graded("轻微", f"罚款{fine_wan:g}万元，不超过本部门裁量基准的轻微标准（{rules.dept_minor_fine_wan:g}万元，{rules.dept_source}）")
    return Graded("一般", "未达严重标准、也不属于轻微情形，按定级规则为一般")


def infer_severity(
    penalty_kinds: str, fine_wan: float | None = None, rules: SeverityRules = DEFAULT_SEVERITY_RULES
) -> str:
    """The grade alone (`grade_penalty` gives its basis too)."""
    return grade_penalty(penalty_kinds, fine_wan, rules).severity


def rules_for(standard: SeverityStandard | None, base: SeverityRules = DEFAULT_SEVERITY_RULES) -> SeverityRules:
    """`base` with a department's own standard (the local catalogue's `severity_standards`)."""
    if standard is None:
        return base
    return replace(base, dept_serious_fine_wan=standard.serious_fine_wan, dept_minor_fine_wan=standard.minor_fine_wan,
                   dept_source=standard.source)
