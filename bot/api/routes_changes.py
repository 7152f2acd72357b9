"""Department systems and the city's website learn what changed (issue 25): the change feed, the
public feed, stored documents (信用修复告知书, 决定书, 专项信用报告), and repair applications that
reach the city from 信用中国 or the provincial platform, with the results sent back."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from bot.api.problems import KEYED, ApiProblem, problem_responses
from bot.api.security import RateLimiter, requires
from db.models import AuditEntry, CreditRecord
from render.repair_pdf import render_repair_notice
from render.special_report_pdf import render_special_report
from rules.codes import validate_uscc
from services import changes, public_feed
from services.api_checks import viewer_for
from services.apikeys import Principal
from services.declarations.link_secrets import credit_departments
from services.errors import INVALID, NOT_FOUND, Refusal
from services.repair import ExternalApplication, case_results, policy_from, receive_external
from services.repair_documents import issuer_from, notice_for_record
from services.runtime import Services
from services.special_report import issue_special_report, subject_id_for
from services.stored_documents import fetch_document

router = APIRouter()
ChangesKey = Annotated[Principal, Depends(requires("changes"))]
RepairKey = Annotated[Principal, Depends(requires("repair"))]
DocumentKey = Annotated[Principal, Depends(requires("query", "check", "push", "changes", "repair", "special"))]
PUBLIC_BURST = 20
MAX_ID = 2**31 - 1


def services_of(request: Request) -> Services:
    return request.app.state.api.services  # type: ignore[no-any-return]


class EventOut(BaseModel):
    seq: int = Field(description="在变更流中的位置（按提交顺序递增）")
    at: dt.datetime = Field(description="发生时间（UTC）")
    kind: str = Field(description="record_added 新增记录；record_changed 记录变更；listed 列入严重失信主体名单；repaired 信用修复完成；"
                      "revoked 撤销；corrected 更正；expired 公示期届满；masked 暂时屏蔽；unmasked 恢复；repair_notice 信用修复告知书已出具；"
                      "repair_decided 信用修复决定")
    label: str = Field(description="变更类别（中文）")
    subject_name: str = Field(description="主体名称")
    subject_code: str | None = Field(None, description="统一社会信用代码；自然人为脱敏身份证号")
    record_id: int | None = Field(None, description="所涉信用记录的编号（主体级变更为空）")
    category: str | None = Field(None, description="信用记录类别")
    doc_number: str | None = Field(None, description="决定文书号")
    department: str | None = Field(None, description="认定（决定）部门")
    detail: dict[str, Any] = Field(default_factory=dict, description="补充信息（如告知书编号、修复结果、受理编号）")


class ChangesOut(BaseModel):
    events: list[EventOut] = Field(description="本页变更，按提交顺序")
    next_cursor: str = Field(description="下次请求作为 since 传入；无新变更时与本次相同")
    more: bool = Field(description="是否还有下一页（立即再取）")


@router.get("/v1/changes", response_model=ChangesOut, tags=["变更"], summary="获取变更（游标分页，按提交顺序，不丢不重）",
            responses=problem_responses(*KEYED, s422="游标无效（请使用上一页返回的 next_cursor）、每页条数超出范围，或请求内容无效"))
async def get_changes(
    request: Request, principal: ChangesKey,
    since: str | None = Query(None, max_length=64, description="上一页返回的 next_cursor；不传则从头开始"),
    limit: int = Query(changes.DEFAULT_PAGE, ge=1, le=changes.MAX_PAGE, description="每页条数"),
) -> ChangesOut:
    db = services_of(request).db
    page = await changes.read(db, since, limit, persons="idquery" in principal.scopes)
    if page.events:  # a poll that learned nothing reveals nothing: no audit row for it
        async with db.transaction() as s:
            s.add(AuditEntry(account_id=principal.account_id, role="official", action="changes_read",
                             detail={"key": principal.prefix, "events": len(page.events), "cursor": page.next_cursor,
                                     "subjects": sorted({e.subject_id for e in page.events})}))
    return ChangesOut(
        events=[EventOut(seq=e.seq, at=e.at, kind=e.kind, label=e.label, subject_name=e.subject_name,
                         subject_code=e.subject_code, record_id=e.record_id, category=e.category, doc_number=e.doc_number,
                         department=e.department, detail=e.detail) for e in page.events],
        next_cursor=page.next_cursor, more=page.more,
    )


@router.get("/v1/documents/{number}", tags=["文书"], summary="下载平台出具的文书（信用修复告知书、决定书、专项信用报告）",
            response_class=Response,
            responses={200: {"content": {"application/pdf": {}}},
                       **problem_responses(*KEYED, 404, s404="没有该编号的文书，或该文书不属于本部门（两者答复相同）")})
async def get_document(request: Request, principal: DocumentKey, number: str = Path(..., max_length=64)) -> Response:
    doc = await fetch_document(services_of(request).db, viewer_for(principal), number, channel="api")
    return Response(doc.pdf, media_type="application/pdf", headers={"X-Document-SHA256": doc.sha256})


class NoticeOut(BaseModel):
    number: str = Field(description="信用修复告知书编号；凭 GET /v1/documents/{number} 下载")


@router.get("/v1/repair-notices/{record_id}", response_model=NoticeOut, tags=["文书"],
            summary="本部门记录的信用修复告知书（两书同达）：尚未出具的当即出具",
            responses=problem_responses(*KEYED, 404, s404="找不到本部门的该记录，或该记录无需出具信用修复告知书"))
async def get_repair_notice(request: Request, principal: DocumentKey, record_id: int = Path(..., ge=1, le=MAX_ID)) -> NoticeOut:
    svc = services_of(request)
    async with svc.db.transaction() as s:
        owner = await s.get(CreditRecord, record_id)
    if owner is None or owner.department_id != principal.department_id:
        raise Refusal("找不到本部门的该记录。", code=NOT_FOUND)
    platform = svc.settings.region.platform_name
    number = await notice_for_record(
        svc.db, record_id, lambda d: render_repair_notice(d, platform), issuer_from(svc.settings), svc.now()
    )
    if number is None:
        raise Refusal("该记录无需出具信用修复告知书（非近期行政处罚或列入决定）。", code=NOT_FOUND)
    return NoticeOut(number=number)


# -- applications from 信用中国 / the provincial platform ---------------------------------------------


class ApplicationIn(BaseModel):
    origin: str = Field("creditchina", pattern="^(creditchina|province)$", description="creditchina 信用中国；province 省级平台")
    external_ref: str = Field(..., min_length=1, max_length=64, description="该平台的受理编号")
    subject_code: str = Field(..., min_length=1, max_length=40, description="信用主体统一社会信用代码")
    doc_number: str = Field(..., min_length=1, max_length=128, description="拟修复记录的文书号")
    received_on: dt.date = Field(..., description="平台推送（收到申请）的日期：受理期限自次日起算")
    applicant: str = Field("", max_length=100, description="经办人")
    materials: list[str] = Field(default_factory=list, max_length=50, description="申请材料名称")
    commitment: bool = Field(True, description="是否附信用承诺书")


class ApplicationOut(BaseModel):
    request_id: int = Field(description="本平台的申请编号")
    created: bool = Field(description="false：该受理编号此前已收到（重试），未重复登记")
    status: str = Field(description="received 待受理；accepted 已受理；refused 不予受理；approved 准予修复；rejected 不予修复")
    accept_due: dt.date | None = Field(None, description="受理期限")


def _departments(principal: Principal, services: Services) -> frozenset[int] | None:
    """A key of the credit department acts for every department; any other only for its own."""
    if principal.department_code in credit_departments(services.settings.region.division_code):
        return None
    return frozenset({principal.department_id})


@router.post("/v1/repairs", response_model=ApplicationOut, tags=["信用修复"],
             summary="接收信用中国或省级平台推送的信用修复申请（同一受理编号重复推送不重复登记）",
             responses=problem_responses(
                 400, *KEYED, 404, 409,
                 s403="接口密钥没有 repair 权限，或该记录不属于本部门认定（谁认定、谁修复）",
                 s404="找不到该主体文书号对应的失信记录",
                 s409="该记录已有信用修复申请正在办理，或已修复、已撤销",
                 s422="来源、受理编号或统一社会信用代码有误，未附信用承诺书，或请求内容无效"))
async def post_application(request: Request, principal: RepairKey, body: ApplicationIn) -> ApplicationOut:
    svc = services_of(request)
    app = ExternalApplication(body.origin, body.external_ref, body.subject_code, body.doc_number, body.received_on,
                              body.applicant, tuple(body.materials), body.commitment)
    case = await receive_external(svc.db, app, policy_from(svc.settings), _departments(principal, svc), viewer_for(principal))
    return ApplicationOut(request_id=case.request_id, created=case.created, status=case.status, accept_due=case.accept_due)


class ResultOut(BaseModel):
    external_ref: str = Field(description="该平台的受理编号")
    doc_number: str = Field(description="所涉记录的文书号")
    subject_code: str | None = Field(description="信用主体统一社会信用代码")
    result: str = Field(description="不予受理、准予修复或不予修复")
    reason: str = Field(description="理由")
    decided_on: dt.date = Field(description="办结日期")
    decision_number: str | None = Field(None, description="信用修复决定书编号")
    missed: str | None = Field(None, description="超过的办理期限（受理、办结）")


@router.get("/v1/repairs/results", response_model=list[ResultOut], tags=["信用修复"],
            summary="回传：某日以来办结的外部申请（格式与推送一致，以受理编号对应）",
            responses=problem_responses(*KEYED, s422="缺少或无效的 since 日期、来源，或请求内容无效"))
async def get_results(
    request: Request, principal: RepairKey,
    since: Annotated[dt.date, Query(description="自该日（含）以来办结")],
    origin: str = Query("creditchina", pattern="^(creditchina|province)$"),
) -> list[ResultOut]:
    svc = services_of(request)
    rows = await case_results(svc.db, origin, since, svc.settings.tz, _departments(principal, svc))
    return [ResultOut(**r.__dict__) for r in rows]


# -- 专项信用报告 ------------------------------------------------------------------------------------

ReportKey = Annotated[Principal, Depends(requires("special", "query", "check"))]


class SpecialReportIn(BaseModel):
    subject: str = Field(..., min_length=1, max_length=40, description="信用主体统一社会信用代码")
    years: int = Field(3, ge=1, le=5, description="查询时段：近 N 年（1-5）")
    fields: list[str] = Field(default_factory=list, max_length=30, description="领域名称；不传为全部领域")
    authorisation_code: str | None = Field(None, max_length=32, description="主体出具的授权码；密钥有 special 权限时可不传")


@router.post("/v1/reports/special", tags=["文书"], summary="经主体授权出具专项信用报告（PDF）",
             response_class=Response,
             responses={200: {"content": {"application/pdf": {}}},
                        **problem_responses(400, *KEYED, 404,
                                            s403="接口密钥没有所需权限，或缺少主体的有效授权码（授权码无效、已使用或已过期）",
                                            s404="档案中没有该统一社会信用代码的主体",
                                            s422="统一社会信用代码或领域名称有误，或请求内容无效")})
async def post_special_report(request: Request, principal: ReportKey, body: SpecialReportIn) -> Response:
    svc = services_of(request)
    code = validate_uscc(body.subject, repair=True)
    if not code.ok:
        raise Refusal(f"统一社会信用代码有误：{code.error}", code=INVALID)
    subject_id = await subject_id_for(svc.db, code.value)
    if subject_id is None:
        raise Refusal("档案中没有该统一社会信用代码的主体。", code=NOT_FOUND)
    platform = svc.settings.region.platform_name
    issued = await issue_special_report(
        svc.db, viewer_for(principal), subject_id, years=body.years, now=svc.now(),
        render=lambda d: render_special_report(d, platform), issuer=issuer_from(svc.settings),
        division_code=svc.settings.region.division_code, fields=body.fields,
        authorisation_code=body.authorisation_code, standing="special" in principal.scopes,
    )
    return Response(issued.pdf, media_type="application/pdf", headers={
        "X-Document-Number": quote(issued.number), "X-Document-SHA256": issued.sha256,
        "X-Has-Records": "true" if issued.has_records else "false",
    })


# -- the city's website (no key: public information only, limited per address) -------------------------


class PublicRecordOut(BaseModel):
    record_id: int = Field(description="记录编号（撤下时据此删除）")
    subject_name: str = Field(description="主体名称")
    uscc: str | None = Field(description="统一社会信用代码")
    category: str = Field(description="信用记录类别")
    doc_number: str = Field(description="决定文书号")
    title: str | None = Field(description="名称或处罚类别")
    content: str | None = Field(description="内容（已脱敏）")
    decision_date: dt.date = Field(description="决定日期")
    department: str = Field(description="决定部门")
    severity: str | None = Field(description="失信程度")
    last_public_day: dt.date | None = Field(None, description="最后公示日：次日起不得再展示")


class PublicChangeOut(BaseModel):
    seq: int = Field(description="在变更流中的位置")
    kind: str = Field(description="变更类别（同 /v1/changes）")
    record_id: int = Field(description="记录编号")
    record: PublicRecordOut | None = Field(None, description="现行公示内容；为空表示应从网站撤下")


class PublicChangesOut(BaseModel):
    changes: list[PublicChangeOut] = Field(description="本页变更")
    next_cursor: str = Field(description="下次请求作为 since 传入")
    more: bool = Field(description="是否还有下一页")


class PublishedOut(BaseModel):
    records: list[PublicRecordOut] = Field(description="当前公示的记录")
    next_after: int = Field(description="下一页作为 after 传入")
    more: bool = Field(description="是否还有下一页")
    cursor: str | None = Field(None, description="首页（after=0）时给出：载入完毕后从此游标跟随 /public/changes")


def _limited(request: Request) -> None:
    limiter: RateLimiter = request.app.state.public_limiter
    client = request.client.host if request.client else "-"
    wait = limiter.take(hash(("public", client)))
    if wait:
        raise ApiProblem(429, f"请求过于频繁，请 {int(wait) + 1} 秒后再试。", {"retry_after": int(wait) + 1})


@router.get("/public/changes", response_model=PublicChangesOut, tags=["信用网站"], summary="公示信息的变更（含撤下）",
            responses=problem_responses(429, s429="同一来源地址请求过于频繁（api.verify_per_minute）：请按 Retry-After 重试"))
async def get_public_changes(
    request: Request,
    since: str | None = Query(None, max_length=64),
    limit: int = Query(changes.DEFAULT_PAGE, ge=1, le=changes.MAX_PAGE),
) -> PublicChangesOut:
    _limited(request)
    svc = services_of(request)
    items, cursor, more = await public_feed.public_changes(svc.db, since, limit, svc.today())
    return PublicChangesOut(
        changes=[PublicChangeOut(seq=c.seq, kind=c.kind, record_id=c.record_id,
                                 record=PublicRecordOut(**c.record.__dict__) if c.record else None) for c in items],
        next_cursor=cursor, more=more,
    )


@router.get("/public/records", response_model=PublishedOut, tags=["信用网站"], summary="当前公示的全部记录（分页）",
            responses=problem_responses(429, s429="同一来源地址请求过于频繁（api.verify_per_minute）：请按 Retry-After 重试"))
async def get_published(
    request: Request, after: int = Query(0, ge=0, le=MAX_ID), limit: int = Query(500, ge=1, le=public_feed.MAX_PAGE),
) -> PublishedOut:
    _limited(request)
    svc = services_of(request)
    cursor = await changes.head(svc.db) if after == 0 else None  # taken before the read: nothing in between is missed
    page = await public_feed.published_records(svc.db, after, limit, svc.today())
    return PublishedOut(records=[PublicRecordOut(**r.__dict__) for r in page.records], next_after=page.next_after,
                        more=page.more, cursor=cursor)

