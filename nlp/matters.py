"""Which 办理事项 (matter) a piece of text names: "政府采购", "招标", a matter key or its label.

Parsing the user's words lives here; the measures that apply to a matter are `rules.measures`.
"""

from __future__ import annotations

import re
import unicodedata

from rules.measures import MATTERS

# Longest keywords first so that "政府采购" wins over "采购" and "招标投标" over "投标".
MATTER_WORDS: tuple[tuple[str, str], ...] = (
    ("政府采购", "procurement"), ("采购", "procurement"),
    ("评优评先", "award"), ("评先评优", "award"), ("评优", "award"), ("评先", "award"), ("表彰", "award"),
    ("荣誉", "award"), ("奖励", "award"),
    ("项目审批", "project"), ("项目核准", "project"), ("项目备案", "project"), ("立项", "project"),
    ("招标投标", "tender"), ("招投标", "tender"), ("招标", "tender"), ("投标", "tender"),
    ("财政补贴", "subsidy"), ("财政资金", "subsidy"), ("政策扶持", "subsidy"), ("补贴", "subsidy"),
    ("补助", "subsidy"), ("专项资金", "subsidy"), ("政府资金", "subsidy"),
    ("人员录用", "hiring"), ("录用", "hiring"), ("招录", "hiring"), ("招聘", "hiring"), ("任职", "hiring"),
    ("聘用", "hiring"), ("任用", "hiring"),
    ("土地出让", "land"), ("矿产出让", "land"), ("矿业权", "land"), ("采矿权", "land"), ("探矿权", "land"),
    ("土地", "land"), ("矿产", "land"),
    ("行政许可", "license"), ("许可审批", "license"), ("许可", "license"), ("审批", "license"),
    ("资格认定", "qualification"), ("执业资格", "qualification"), ("职业资格", "qualification"),
    ("专家", "qualification"), ("资格", "qualification"), ("资质", "qualification"),
    ("登记注册", "registration"), ("设立登记", "registration"), ("变更登记", "registration"),
    ("注册", "registration"), ("登记", "registration"),
    ("其他事项", "other"), ("其他", "other"),
)


def matter_from_text(text: str) -> str | None:
    """Matter key for a key, a label or a keyword in free text; None when nothing fits."""
    if not text:
        return None
    norm = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    if norm.lower() in MATTERS:
        return norm.lower()
    for label_key, label in MATTERS.items():
        if norm == label:
            return label_key
    for word, key in sorted(MATTER_WORDS, key=lambda wk: -len(wk[0])):
        if word in norm:
            return key
    return None
