"""Grading a penalty as 轻微 / 一般 / 严重 from the kinds of penalty imposed.

Departments often leave the grade blank, yet it decides the publication window. The grading follows
the usual reading of the Administrative Penalty Law's kinds (Art. 9): only 警告/通报批评 is 轻微; licence
revocation, closure, production stops and bans on trade or practice are 严重; fines, confiscation,
temporary licence seizure and demotion of qualification are 一般.

A very large fine is also graded 严重. The law sets no figure, so the threshold is ours: 100 万元 by
default — far above the 较大数额罚款 hearing thresholds local rules use (usually 1-10 万元), so only
fines that no one would call ordinary cross it. Configure it per region; None turns it off.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


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


DEFAULT_SEVERITY_RULES = SeverityRules()

_SEPARATORS = re.compile(r"[\s,，;；、/|。.:：()（）\[\]【】+＋&]+")


def infer_severity(
    penalty_kinds: str, fine_wan: float | None = None, rules: SeverityRules = DEFAULT_SEVERITY_RULES
) -> str:
    """轻微 only when the text names nothing but minor kinds and no fine was imposed; an empty or
    unrecognised text is 一般, the grade that neither hides nor over-publishes a record."""
    text = unicodedata.normalize("NFKC", penalty_kinds or "")
    if any(kind in text for kind in rules.severe_kinds):
        return "严重"
    if fine_wan is not None and rules.fine_threshold_wan is not None and fine_wan >= rules.fine_threshold_wan:
        return "严重"
    rest = _SEPARATORS.sub("", text)
    if not any(kind in rest for kind in rules.minor_kinds):
        return "一般"
    for word in (*rules.minor_kinds, *rules.filler):
        rest = rest.replace(word, "")
    if rest == "" and not (fine_wan is not None and fine_wan > 0):
        return "轻微"
    return "一般"
