"""The categories of credit information a department reports, and the names people use for them.

Department exports, spreadsheets and chat messages rarely use the canonical names: an official types
"黑名单" or "处罚", a 2016-edition file says "行政处罚信息". Everything downstream (deadlines, publication,
measures) keys on the canonical name, so every free-text category goes through `normalize_category`.
"""

from __future__ import annotations

import re
import unicodedata

CATEGORIES: tuple[str, ...] = (
    "登记备案",
    "资质资格",
    "行政许可",
    "行政处罚",
    "行政强制",
    "行政确认",
    "行政奖励",
    "行政给付",
    "检查抽查",
    "经营异常名录",
    "严重失信主体名单",
    "司法判决",
    "强制执行",
    "自主申报",
    "信用承诺",
)

# 双公示: the two categories with the 7-working-day reporting deadline.
DOUBLE_PUBLICITY = frozenset({"行政许可", "行政处罚"})
BLACKLIST = "严重失信主体名单"
ABNORMAL_LIST = "经营异常名录"
NEGATIVE: frozenset[str] = frozenset({"行政处罚", "行政强制", ABNORMAL_LIST, BLACKLIST, "司法判决", "强制执行"})

SEVERITIES = ("轻微", "一般", "严重")

# Alias → canonical name. Ambiguous words (e.g. "双公示", "名单") are deliberately absent: guessing
# between 行政许可 and 行政处罚, or between the two lists, would file a record under the wrong rules.
_ALIASES: dict[str, str] = {
    # 登记备案
    "登记": "登记备案",
    "备案": "登记备案",
    "注册登记": "登记备案",
    "登记注册": "登记备案",
    # 资质资格
    "资质": "资质资格",
    "资格": "资质资格",
    "资质认定": "资质资格",
    "资格资质": "资质资格",
    # 行政许可
    "许可": "行政许可",
    "行政审批": "行政许可",
    "审批": "行政许可",
    # 行政处罚
    "处罚": "行政处罚",
    "处罚决定": "行政处罚",
    # 行政强制 (the court's 强制执行 is a separate category; 行政强制执行 is the administrative one)
    "强制措施": "行政强制",
    "行政强制措施": "行政强制",
    "行政强制执行": "行政强制",
    # 行政确认 / 行政给付
    "确认": "行政确认",
    "给付": "行政给付",
    # 行政奖励
    "奖励": "行政奖励",
    "表彰": "行政奖励",
    "表彰奖励": "行政奖励",
    "荣誉": "行政奖励",
    "获奖": "行政奖励",
    # 检查抽查
    "检查": "检查抽查",
    "抽查": "检查抽查",
    "抽检": "检查抽查",
    "抽查检查": "检查抽查",
    "监督检查": "检查抽查",
    "双随机": "检查抽查",
    "双随机一公开": "检查抽查",
    "检查结果": "检查抽查",
    # 经营异常名录
    "异常名录": "经营异常名录",
    "经营异常": "经营异常名录",
    "异常经营名录": "经营异常名录",
    "列入经营异常名录": "经营异常名录",
    # 严重失信主体名单
    "黑名单": BLACKLIST,
    "失信黑名单": BLACKLIST,
    "失信名单": BLACKLIST,
    "严重失信": BLACKLIST,
    "严重失信名单": BLACKLIST,
    "严重失信主体": BLACKLIST,
    "严重违法失信名单": BLACKLIST,
    "严重违法失信企业名单": BLACKLIST,
    # 司法判决
    "判决": "司法判决",
    "判决书": "司法判决",
    "法院判决": "司法判决",
    "裁判文书": "司法判决",
    "司法裁判": "司法判决",
    # 强制执行 (the court's list of judgment debtors is filed with the enforcement records)
    "执行": "强制执行",
    "被执行人": "强制执行",
    "失信被执行人": "强制执行",
    "失信被执行人名单": "强制执行",
    "法院执行": "强制执行",
    # 自主申报
    "申报": "自主申报",
    "自愿申报": "自主申报",
    "自我申报": "自主申报",
    # 信用承诺
    "承诺": "信用承诺",
    "承诺书": "信用承诺",
    "信用承诺书": "信用承诺",
    "告知承诺": "信用承诺",
}

_NOISE = re.compile(r"[\s\"'“”‘’《》〈〉「」【】()（）\[\]]+")
# Suffixes that files append to a category name without changing it ("行政处罚信息", "黑名单类").
_SUFFIXES = ("信息", "数据", "记录", "类别", "类")


def _lookup(name: str) -> str | None:
    if name in CATEGORIES:
        return name
    return _ALIASES.get(name)


def normalize_category(text: str) -> str | None:
    """Canonical category for a name or alias, or None: an unknown word must not pick a rule set."""
    if not text:
        return None
    name = _NOISE.sub("", unicodedata.normalize("NFKC", text))
    found = _lookup(name)
    if found:
        return found
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            found = _lookup(name[: -len(suffix)])
            if found:
                return found
    return None
