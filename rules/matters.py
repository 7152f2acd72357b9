"""The matters an official handles at 逢办必查 ("办理事项"), by key.

The catalogue data (db/data/catalogue_v*.toml) names, for each measure, the matters it concerns by
these keys; `rules.measures` answers per matter. "other" (其他事项) is the matter the platform cannot
narrow down: it is answered with every measure of the subject's own lists.
"""

from __future__ import annotations

MATTERS: dict[str, str] = {
    "procurement": "政府采购",
    "award": "评优评先",
    "project": "项目审批",
    "tender": "招标投标",
    "subsidy": "财政补贴",
    "hiring": "人员录用/任职",
    "land": "土地/矿产出让",
    "license": "行政许可审批",
    "qualification": "资格认定",
    "registration": "登记注册",
    "other": "其他事项",
}
ALL_MATTERS = frozenset(MATTERS)
OTHER = "other"
# Matters where checking a person also answers "may this person hold this post".
POST_MATTERS = frozenset({"registration", "hiring"})
