"""Self-declaration (自主申报) with a credit commitment (信用承诺): pure rules, no I/O, no telegram.

What a declaration of each category asks for, how each typed answer is checked, which files are
accepted, the commitment and authorisation texts (versioned: the text a declarant accepted is stored
with the declaration, so a later edit of the wording never changes what someone swore to), the receipt
number, which department verifies which category, and who sees a declaration on the card.

Decisions the issue leaves open, written down here so every channel applies the same ones:

- Proving a link without an enterprise account. A person is found by the full ID number (matched by
  its keyed hash, never stored in clear) and must give the name on file: knowing the whole number
  includes knowing the last four. An organisation's legal representative's ID is not on file, and the
  last four of a USCC prove nothing (the USCC is public and was just typed), so an organisation is
  proved by USCC + the legal representative's name + the date of establishment (成立日期) on file.
  These are weak knowledge factors; they are acceptable only because a declaration counts for nothing
  until an official has checked it against the attached proof. A proven link lets the user submit
  for that subject, nothing more (no binding, no unpublished records). Three failed tries start a
  cool-down kept in the database; an organisation without a date on file is told how to get an
  enterprise account instead.
- Verification goes to the department responsible for the category: for licences and honours, the
  region department whose name the declarant typed as issuer (if it is one of ours); otherwise a fixed
  role per category (market supervision for business activity and contracts, civil affairs for public
  welfare), falling back to the city's credit office (role "credit", 发展改革/信用办).
- The commitment is a credit record (category 信用承诺) from the moment it is made, status
  "unverified" (rules.visibility): officials see it, the public does not, and the evaluation does
  not count it as a kept commitment. Verification makes it "active" (public, scored); rejection
  revokes it. Nothing a declarant wrote is shown to the public or scored before an official
  verified it; its title names only the category in any case. A declaration found
  false after verification is revoked and a broken commitment is recorded: category 信用承诺,
  severity 一般, published for one year (the 2026 maximum for 一般) and shared with officials after.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from rules.roles import STAFF_ROLES

SKIP_WORD = "跳过"
BACK_WORD = "返回"
COMMITMENT_WORD = "我承诺"
AUTHORISE_WORD = "同意"

COMMITMENT_VERSION = "DC-2026.1"
COMMITMENT_TEXT = (
    "信用承诺书：本主体郑重承诺，本次自主申报的信息及所附材料真实、准确、完整、有效，不存在虚假记载、"
    "误导性陈述或重大遗漏；如申报内容发生变化，将及时更新。如有不实，自愿接受相关部门依法依规采取的"
    "失信约束措施，违背承诺的情况将记入本主体信用档案，并承担相应法律责任。本承诺记入信用档案。"
)
AUTHORISATION_VERSION = "DA-2026.1"
AUTHORISATION_TEXT = (
    "授权书：本主体同意并授权本平台对本次申报的信息进行归集、核验，并在核验通过后依法依规向有关部门"
    "共享、向社会公示（身份证号、联系方式等个人信息按规定脱敏）。"
)

# A broken commitment: 一般 severity, published for the 2026 maximum of that grade (one year).
BROKEN_SEVERITY = "一般"
BROKEN_PUBLICATION_MONTHS = 12
BROKEN_TITLE = "违背信用承诺：自主申报内容不实"

STATUS_LABELS = {
    "draft": "填写中",
    "pending": "待核验",
    "verified": "已核验",
    "rejected": "未通过核验",
    "revoked": "已撤销（申报不实）",
    "cancelled": "已取消",
    "expired": "已超时",
}
OPEN = "draft"
SUBMITTED = frozenset({"pending", "verified", "rejected", "revoked"})

MAX_TEXT = 200
MAX_AMOUNT_WAN = Decimal("100000000")  # 一万亿元, in 万元: anything above is a typo


class DeclarationError(ValueError):
    """A refused answer; the message is Chinese and meant for the user."""


@dataclass(frozen=True)
class DeclarationSettings:
    """Limits of the declaration flow; `declarations` in config.toml once bot/config.py carries it."""

    max_file_mb: int = 10
    max_files: int = 5
    timeout_seconds: int = 30 * 60
    link_attempts: int = 3
    cooldown_minutes: int = 30


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str  # text / number / date / amount
    required: bool = True
    hint: str = ""
    not_before: str | None = None  # key of a date field this one may not precede
    future_ok: bool = False  # a date that may lie ahead (an expiry)


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    fields: tuple[Field, ...]
    headline: str  # the field shown on the card (never a counterpart's name)
    issuer: str | None  # the field naming the issuing body, used to route verification
    roles: tuple[str, ...]  # department roles that verify it, before the credit office


CATEGORIES: dict[str, Category] = {
    c.key: c
    for c in (
        Category(
            "license", "资质证照",
            (
                Field("name", "证照名称", "text", hint="例如：建筑业企业资质证书"),
                Field("issuer", "发证机关", "text", hint="例如：安康市住房和城乡建设局"),
                Field("number", "证照编号", "number"),
                Field("issued", "发证日期", "date"),
                Field("expires", "有效期至", "date", required=False, not_before="issued", future_ok=True),
            ),
            headline="name", issuer="issuer", roles=(),
        ),
        Category(
            "honour", "荣誉表彰",
            (
                Field("name", "荣誉名称", "text", hint="例如：陕西省守合同重信用企业"),
                Field("issuer", "授予单位", "text"),
                Field("number", "文号或证书编号", "number", required=False),
                Field("issued", "授予日期", "date"),
            ),
            headline="name", issuer="issuer", roles=(),
        ),
        Category(
            "business", "市场经营",
            (
                Field("name", "经营事项", "text", hint="例如：2025 年度纳税信用 A 级、年度营业收入"),
                Field("amount", "金额（万元）", "amount", required=False),
                Field("issued", "日期", "date"),
                Field("note", "说明", "text", required=False),
            ),
            headline="name", issuer=None, roles=("market",),
        ),
        Category(
            "contract", "合同履约",
            (
                Field("name", "合同名称", "text"),
                Field("counterpart", "合同相对方", "text"),
                Field("amount", "合同金额（万元）", "amount"),
                Field("issued", "签订日期", "date"),
                Field("done", "履约完成日期", "date", required=False, not_before="issued"),
            ),
            headline="name", issuer=None, roles=("market",),
        ),
        Category(
            "welfare", "社会公益",
            (
                Field("name", "公益项目", "text", hint="例如：捐资助学、抗洪救灾捐赠"),
                Field("counterpart", "受赠或组织单位", "text"),
                Field("amount", "金额（万元）", "amount", required=False),
                Field("issued", "日期", "date"),
            ),
            headline="name", issuer=None, roles=("civil",),
        ),
        Category(
            "integrity", "诚信管理",
            (
                Field("name", "制度或认证名称", "text", hint="例如：企业诚信管理体系认证"),
                Field("issuer", "认证或评定机构", "text", required=False),
                Field("number", "证书编号", "number", required=False),
                Field("issued", "日期", "date"),
                Field("expires", "有效期至", "date", required=False, not_before="issued", future_ok=True),
            ),
            headline="name", issuer="issuer", roles=(),
        ),
    )
}


def category(key: str) -> Category:
    try:
        return CATEGORIES[key]
    except KeyError:
        raise DeclarationError(f"未知的申报类别：{key}") from None


def field_of(cat: Category, key: str) -> Field:
    for f in cat.fields:
        if f.key == key:
            return f
    raise DeclarationError(f"申报类别“{cat.label}”没有“{key}”一项")


def next_field(cat: Category, key: str | None) -> Field | None:
    """The field after `key` (the first when None); None when the fields are done."""
    keys = [f.key for f in cat.fields]
    if key is None:
        return cat.fields[0]
    i = keys.index(key)
    return cat.fields[i + 1] if i + 1 < len(keys) else None


def previous_field(cat: Category, key: str) -> Field | None:
    keys = [f.key for f in cat.fields]
    i = keys.index(key)
    return cat.fields[i - 1] if i > 0 else None


def summary_lines(cat: Category, values: dict[str, str]) -> list[str]:
    """The declared fields as `label：value`, in the category's order; skipped ones say so."""
    return [f"{f.label}：{values.get(f.key) or '（未填写）'}" for f in cat.fields]


# -- attachments ------------------------------------------------------------------------------------

ALLOWED_EXTENSIONS = {".pdf": "pdf", ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png"}
ALLOWED_MIME = {"application/pdf": "pdf", "image/jpeg": "jpeg", "image/png": "png"}
_MAGIC = {"pdf": (b"%PDF",), "jpeg": (b"\xff\xd8\xff",), "png": (b"\x89PNG\r\n\x1a\n",)}
REFUSED_TYPE = "仅接受 PDF、JPG、PNG 格式的文件或照片，请转换格式后重新发送。"


def declared_type(file_name: str | None, mime_type: str | None) -> str | None:
    """pdf / jpeg / png from the name or MIME type the client reported; None when neither fits."""
    if mime_type and mime_type.lower() in ALLOWED_MIME:
        return ALLOWED_MIME[mime_type.lower()]
    name = (file_name or "").lower()
    for ext, kind in ALLOWED_EXTENSIONS.items():
        if name.endswith(ext):
            return kind
    return None


def check_size(size: int | None, count: int, limits: DeclarationSettings) -> None:
    """Refuse before downloading: too many files, or a file above the size limit."""
    if count >= limits.max_files:
        raise DeclarationError(f"每份申报最多上传 {limits.max_files} 个附件，已达上限。请点击“材料已发送完毕”继续。")
    if size is not None and size > limits.max_file_mb * 1024 * 1024:
        raise DeclarationError(f"文件过大（{size / 1024 / 1024:.1f} MB），单个附件不超过 {limits.max_file_mb} MB。")
    if size == 0:
        raise DeclarationError("文件内容为空，请重新发送。")


def check_content(kind: str | None, content: bytes, limits: DeclarationSettings) -> str:
    """The content must be what its name says: a renamed .exe is not a PDF. Returns the type."""
    if kind is None:
        raise DeclarationError(REFUSED_TYPE)
    if not content:
        raise DeclarationError("文件内容为空，请重新发送。")
    if len(content) > limits.max_file_mb * 1024 * 1024:
        raise DeclarationError(f"文件过大，单个附件不超过 {limits.max_file_mb} MB。")
    if not content.startswith(_MAGIC[kind]):
        raise DeclarationError("文件内容与其格式不符（可能已损坏或被改名），" + REFUSED_TYPE)
    return kind


# -- numbering, routing, visibility -----------------------------------------------------------------


def receipt_number(prefix: str, year: int, seq: int) -> str:
    """安申〔2026〕000123号: region abbreviation + 申, the year in 六角括号, a per-year sequence."""
    return f"{prefix}申〔{year}〕{seq:06d}号"


@dataclass(frozen=True)
class DepartmentRef:
    code: str
    name: str
    short_name: str | None
    role: str
    division_code: str


def _squash(text: str) -> str:
    return re.sub(r"[\s（）()]", "", unicodedata.normalize("NFKC", text or ""))


def route(cat: Category, values: dict[str, str], departments: list[DepartmentRef], city_code: str) -> str | None:
    """Code of the department that verifies this declaration (see the module docstring)."""
    issuer = _squash(values.get(cat.issuer or "", ""))
    if issuer:
        for d in sorted(departments, key=lambda d: (d.division_code != city_code, -len(d.name))):
            names = [n for n in (_squash(d.name), _squash(d.short_name or "")) if len(n) >= 3]
            if any(n in issuer or issuer in n for n in names):
                return d.code
    for role in (*cat.roles, "credit"):
        for d in departments:
            if d.role == role and d.division_code == city_code:
                return d.code
    city = [d for d in departments if d.division_code == city_code]
    return (city or departments)[0].code if departments else None


def visible_to(status: str, role: str, own: bool) -> bool:
    """Verified declarations are shown to everyone; the rest (pending, rejected, revoked) only to
    officials and to the declarant. Drafts and abandoned ones are nobody's business on a card."""
    if status == "verified":
        return True
    if status not in SUBMITTED:
        return False
    return role in STAFF_ROLES or own
