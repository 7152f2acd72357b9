"""Request and response bodies of the port, every field described in Chinese for `/docs`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from rules.measures import MATTERS
from rules.text_input import TextRefused, free_text, name_text
from services.api_checks import MAX_BATCH
from services.api_push import MAX_PUSH_ROWS

Matter = Literal[
    "procurement", "award", "project", "tender", "subsidy", "hiring", "land", "license", "qualification",
    "registration", "other",
]
assert set(Matter.__args__) == set(MATTERS)  # type: ignore[attr-defined]
MATTER_TEXT = "办理事项：" + "，".join(f"{k}={v}" for k, v in MATTERS.items())
Outcome = Literal["restricted", "proceeded", "other"]


def _name(text: str) -> str:
    """rules/text_input.name_text as a field rule: refused characters are a 422 naming the field."""
    try:
        out = name_text(text)
    except TextRefused as exc:
        raise ValueError(str(exc)) from None
    if text and not out:
        raise ValueError("只含空白或不可见字符")
    return out


# What the port's names and free texts may hold: the same rule as imports and the chat.
NameText = Annotated[str, AfterValidator(_name)]
FreeText = Annotated[str, AfterValidator(free_text)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubjectBriefOut(BaseModel):
    name: str = Field(description="主体名称（办事人员视角，自然人姓名不脱敏）")
    kind: str = Field(description="主体类别：自然人、法人、非法人组织、个体工商户")
    uscc: str | None = Field(None, description="统一社会信用代码（自然人为空）")
    id_masked: str | None = Field(None, description="脱敏后的身份证号（仅自然人），如 610902********1234")
    division: str | None = Field(None, description="所在区县简称")


class LookupOut(BaseModel):
    status: Literal["clear", "ambiguous", "none"] = Field(
        description="clear：已确定主体；ambiguous：有多个相近主体，需用代码指明；none：没有找到（candidates 为最接近的名称）")
    subject: SubjectBriefOut | None = Field(None, description="status 为 clear 时的主体")
    candidates: list[SubjectBriefOut] = Field(default_factory=list, description="候选主体（ambiguous 或 none 时）")
    note: str | None = Field(None, description="说明（中文），例如代码校验位错误")


class ListingOut(BaseModel):
    list: str = Field(description="名单：严重失信主体名单 或 经营异常名录")
    list_type: str | None = Field(None, description="名单类型代码（失信惩戒目录）；未能识别时为空")
    list_name: str | None = Field(None, description="名单类型名称，如 失信被执行人名单")
    department: str = Field(description="列入部门")
    since: dt.date = Field(description="列入日期")
    basis: str | None = Field(None, description="列入依据")


class FlagsOut(BaseModel):
    blacklist: bool = Field(description="是否在严重失信主体名单（黑名单）中")
    abnormal_list: bool = Field(description="是否在经营异常名录中")
    listings: list[ListingOut] = Field(description="当前有效的名单记录")


class RecordOut(BaseModel):
    doc_number: str = Field(description="决定文书号")
    department: str = Field(description="来源部门")
    decision_date: dt.date = Field(description="决定日期")
    title: str | None = Field(None, description="事项或违法行为名称")
    severity: str | None = Field(None, description="失信程度：轻微、一般、严重")
    status: str = Field(description="记录状态：active 有效、repaired 已修复、objected 异议中 等")
    published: bool = Field(description="今天是否在公示期内（公众可见）")
    publication_end: dt.date | None = Field(
        None, description="公示至：最后一个公示日（含当日，次日起不再公示），与信息卡和信用报告所示相同；无自动截止时为空"
    )
    objection_pending: bool = Field(description="是否有待处理的异议")


class SubjectOut(BaseModel):
    name: str = Field(description="主体名称")
    kind: str = Field(description="主体类别")
    code_label: str = Field(description="代码名称：统一社会信用代码 或 身份证号")
    code: str = Field(description="代码（自然人身份证号始终脱敏）")
    legal_rep: str | None = Field(None, description="法定代表人或负责人")
    division: str | None = Field(None, description="所在区县")
    address: str | None = Field(None, description="地址（自然人按规则脱敏）")
    status: str = Field(description="登记状态，如 存续")


class RelatedOut(BaseModel):
    name: str = Field(description="关联人员或关联主体的名称（人员为姓名）")
    code: str = Field(description="统一社会信用代码，或人员的脱敏身份证号")
    relation: str = Field(description="关联关系，如 法定代表人（本主体名单的措施及于此人）")
    lists: list[str] = Field(default_factory=list, description="其所在的名单")
    measures: list[str] = Field(default_factory=list, description="及于该人员的失信惩戒措施")


class CreditFileOut(BaseModel):
    subject: SubjectOut = Field(description="主体信息")
    flags: FlagsOut = Field(description="名单标记")
    records: dict[str, list[RecordOut]] = Field(description="按类别分组的信用记录（类别名 → 记录）")
    related: list[RelatedOut] = Field(
        default_factory=list,
        description="关联人员与关联主体：仅在名单的惩戒措施及于法定代表人、主要负责人时列出；每次查询均记入审计",
    )


class IdNumberIn(Strict):
    id_number: str = Field(min_length=15, max_length=40, description="居民身份证号（18 位，末位可为 X）")
    operator: NameText | None = Field(None, max_length=64, description="经办人（写入审计记录）")


class CheckIn(Strict):
    subject: NameText = Field(min_length=1, max_length=200,
                         description="主体：统一社会信用代码、名称或简称；有 idquery 权限的密钥也可填身份证号")
    matter: Matter = Field(description=MATTER_TEXT)
    case_number: NameText = Field(min_length=1, max_length=64, pattern=r"\S", description="本部门业务系统的办件编号（必填：核查记录须能追溯到办件）")
    operator: NameText = Field(min_length=1, max_length=64, pattern=r"\S", description="经办人（必填，写入审计记录）")


class MeasureOut(BaseModel):
    text: str = Field(description="应采取的失信惩戒措施")
    basis: str = Field(description="依据（文字）：名单、列入部门、列入日期，以及法律依据")
    key: str = Field("", description="措施在失信惩戒目录中的编号")
    list_type: str = Field("", description="所属名单类型代码")
    list_name: str = Field("", description="所属名单名称，如 拖欠农民工工资失信联合惩戒对象名单")
    legal_basis: list[str] = Field(default_factory=list, description="法律依据：文件名称、文号及条款，每项一条")
    implementer: str = Field("", description="实施主体")
    measure_kind: str = Field("", description="措施类别：减损权益、增加义务、管理措施")
    reaches: list[str] = Field(default_factory=list, description="措施约束的对象：本主体、法定代表人、主要负责人、直接责任人员")
    confirmed: bool = Field(True, description="依据是否已在官方文本中核实；false 表示依据待核实，实施前请向列入部门确认")
    qingdan_no: str | None = Field(None, description="全国失信惩戒措施基础清单（或地方补充清单）中的编号；未核实时为空")


class NotRestrictedOut(BaseModel):
    list: str = Field(description="主体所在的名单")
    department: str = Field(description="列入部门")
    since: dt.date = Field(description="列入日期")
    reason: str = Field(description="本事项不受限制的理由")


class CheckOut(BaseModel):
    check_id: int = Field(description="核查编号，反馈时使用")
    subject: SubjectBriefOut = Field(description="被核查的主体")
    matter: str = Field(description="办理事项代码")
    matter_label: str = Field(description="办理事项名称")
    measures: list[MeasureOut] = Field(description="本事项依法应采取的措施；为空表示本事项无需采取失信惩戒措施")
    listings: list[ListingOut] = Field(description="主体当前所在的名单记录")
    not_restricted: list[NotRestrictedOut] = Field(
        default_factory=list, description="主体所在、但其惩戒措施不涉及本事项的名单，及理由"
    )
    notes: list[str] = Field(default_factory=list, description="提示：名单类型未能识别、措施依据待核实等")
    catalogue: str = Field("", description="作出回答所依据的失信惩戒目录版本")


class FeedbackIn(Strict):
    outcome: Outcome = Field(description="办理结果：restricted 已限制/不予办理；proceeded 已正常办理；other 其他")
    note: FreeText | None = Field(None, max_length=500, description="说明")


class FeedbackOut(BaseModel):
    check_id: int = Field(description="核查编号")
    outcome: str = Field(description="记录的办理结果")
    note: str | None = Field(None, description="说明")
    recorded_at: dt.datetime | None = Field(None, description="反馈记录时间（UTC）")
    repeated: bool = Field(description="true 表示这是对同一反馈的重复提交，未重复记录")


class BatchIn(Strict):
    matter: Matter = Field(description=MATTER_TEXT)
    subjects: list[NameText] = Field(min_length=1, max_length=MAX_BATCH,
                                description=f"要核查的主体（代码或名称），最多 {MAX_BATCH} 个，一行一个")
    case_number: NameText = Field(min_length=1, max_length=64, pattern=r"\S", description="本部门业务系统的办件编号（如采购项目编号；必填）")
    operator: NameText = Field(min_length=1, max_length=64, pattern=r"\S", description="经办人（必填，写入审计记录）")


class BatchLineOut(BaseModel):
    index: int = Field(description="在 subjects 中的序号（从 0 开始）")
    query: str = Field(description="提交的内容")
    resolved: bool = Field(description="是否已确定主体；未确定时不核查，请用代码重新提交")
    status: Literal["clear", "ambiguous", "none"] = Field(description="识别结果")
    note: str | None = Field(None, description="说明")
    candidates: list[SubjectBriefOut] = Field(default_factory=list, description="未确定时的候选主体")
    check: CheckOut | None = Field(None, description="已确定主体时的核查结果")
    blacklist: bool = Field(False, description="是否在严重失信主体名单中")
    abnormal_list: bool = Field(False, description="是否在经营异常名录中")


class BatchOut(BaseModel):
    matter: str = Field(description="办理事项代码")
    total: int = Field(description="提交的主体数")
    resolved: int = Field(description="已确定并核查的主体数")
    with_measures: int = Field(description="需要采取措施的主体数")
    lines: list[BatchLineOut] = Field(description="每个主体一行，顺序与提交一致")


class PushIn(Strict):
    rows: list[dict[str, Any]] = Field(
        min_length=1, max_length=MAX_PUSH_ROWS,
        description=f"记录，最多 {MAX_PUSH_ROWS} 条；每条的键为国家标准模板的列名（如 行政相对人名称、"
        "行政处罚决定书文号），导入程序认可的别名同样适用")
    operator: NameText | None = Field(None, max_length=64, description="经办人（写入审计记录）")


class RowErrorOut(BaseModel):
    index: int | None = Field(None, description="出错记录在 rows 中的序号（从 0 开始）；列缺失等整体问题为空")
    field: str | None = Field(None, description="出错的列名")
    reason: str = Field(description="原因")


class PushOut(BaseModel):
    template: str | None = Field(None, description="识别出的模板")
    rows: int = Field(description="提交的记录数")
    written: bool = Field(description="是否已写入（全部或全不）")
    new: int = Field(description="新增记录数")
    updated: int = Field(description="更新记录数（保留修改历史）")
    unchanged: int = Field(description="与档案一致、未变化的记录数")
    subjects_created: int = Field(description="新建的信用主体数")
    periods: list[str] = Field(default_factory=list, description="计入按月报送的类别与期间，如 行政检查:2026-11")
    ignored_columns: list[str] = Field(default_factory=list, description="未识别、已忽略的列")


class MatterOut(BaseModel):
    code: str = Field(description="办理事项代码")
    label: str = Field(description="办理事项名称")


class HealthOut(BaseModel):
    status: str = Field(description="ok 表示正常")
    subjects_indexed: int | None = Field(None, description="名称索引中的主体数")


class ErrorItemOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    in_: Literal["body", "query", "path", "header"] | None = Field(
        None, alias="in", description="出错的位置：body 请求体、query 查询参数、path 路径参数、header 请求头；报送记录的行错误为空")
    field: str | None = Field(None, description="出错的字段或列名（报送为模板列名，如 行政相对人名称）")
    index: int | None = Field(None, description="出错条目的序号（从 0 开始）：报送的 rows、批量核查的 subjects；其他为空")
    reason: str = Field(description="原因（中文）")


class ProblemOut(BaseModel):
    """Every error the port answers (application/problem+json, RFC 9457)."""

    type: str = Field("about:blank", description="问题类型（RFC 9457），目前均为 about:blank")
    title: str = Field(description="HTTP 状态的中文名称，如 请求内容无效")
    status: int = Field(description="HTTP 状态码，与响应的状态码相同")
    detail: str = Field(description="中文说明，可直接展示给办事人员")
    errors: list[ErrorItemOut] | None = Field(None, description="422 时：每处问题一条（最多 100 条请求校验问题，报送最多 1000 条行错误）")
    candidates: list[SubjectBriefOut] | None = Field(
        None, description="发起核查的 404/409：名称未能唯一确定主体时的候选，请用其统一社会信用代码重新发起")
    retry_after: int | None = Field(None, description="429，以及 Idempotency-Key 的同一请求仍在处理中的 409：多少秒后重试（同 Retry-After 响应头）")
    recorded_outcome: str | None = Field(None, description="反馈的 409：这次核查已记录的办理结果")
