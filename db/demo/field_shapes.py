"""Name shapes the field writes that the first generator lacked (issue 11).

Chosen from the subject's key, not from its random stream, so every other draw of a subject (and
the whole stream) stays as it was: the demo archive only gains shapes.

* Branches and outlets: 分公司 and also 营业部, 门市部, 经营部, 分店 after the parent's full name.
* 个体工商户 with a street or town between the division and the 字号: 汉滨区老街张记蒸面馆.
* 农民专业合作社 named by town and village: 石泉县池河镇明星村蚕桑农民专业合作社.
* 事业单位 (schools, hospitals, centres) beside the 社会组织, with 12… codes, and 机关 (人社局,
  市监局 … as people say) with 11… codes.
"""

from __future__ import annotations

import zlib

from db.demo import names as pools

BRANCH_WORDS = ("分公司", "分公司", "分公司", "营业部", "门市部", "经营部", "分店")
STREET_WORDS = ("老街", "新街", "正街", "河街", "东关", "西关", "南门", "北门")
INSTITUTIONS = (
    "第一中学", "第二中学", "第三中学", "实验小学", "中心小学", "中医医院", "人民医院", "妇幼保健院",
    "疾病预防控制中心", "公共资源交易中心", "不动产登记中心", "职业技术学校", "图书馆", "文化馆",
    # 机关, asked by their abbreviations (人社局, 市监局, 住建局, 发改局: nlp/data/abbreviations.txt).
    "人力资源和社会保障局", "市场监督管理局", "住房和城乡建设局", "发展和改革局",
)  # fmt: skip


def _pick(key: int, salt: str, n: int) -> int:
    return zlib.crc32(f"{salt}:{key}".encode()) % n


def branch_word(key: int) -> str:
    return BRANCH_WORDS[_pick(key, "branch", len(BRANCH_WORDS))]


def street_for_shop(key: int) -> str | None:
    """A street word for one 个体工商户 in three; None for the others."""
    if _pick(key, "street", 3):
        return None
    return STREET_WORDS[_pick(key, "street-word", len(STREET_WORDS))]


def coop_village(key: int) -> str | None:
    """A village (…村) for one 农民专业合作社 in three that is named by its town."""
    if _pick(key, "coop-village", 3):
        return None
    return pools.VILLAGES[_pick(key, "village", len(pools.VILLAGES))] + "村"


def institution(key: int) -> str | None:
    """A 事业单位's name ending for one 社会组织 slot in four; None keeps the 社会组织."""
    if _pick(key, "institution", 4):
        return None
    return INSTITUTIONS[_pick(key, "institution-name", len(INSTITUTIONS))]


def unit_type_code(unit: str) -> str:
    """The USCC's first two characters for an institution: 11 for a 机关 (…局), 12 for a 事业单位."""
    return "11" if unit.endswith("局") else "12"
