"""逢办必查 through the port: 发起 → 响应 (one check or a batch), 反馈."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.api.idempotency import Answer, run_once
from bot.api.problems import IDEMPOTENT_409, KEYED, ApiProblem, problem_responses
from bot.api.routes_subjects import brief_out, listing_out, services_of
from bot.api.schemas import (
    BatchIn,
    BatchLineOut,
    BatchOut,
    CheckIn,
    CheckOut,
    FeedbackIn,
    FeedbackOut,
    MeasureOut,
    NotRestrictedOut,
)
from bot.api.security import CheckKey
from bot.api.xlsx import batch_workbook
from rules.catalogue import REACHES
from rules.categories import ABNORMAL_LIST, BLACKLIST
from rules.measures import MATTERS, Measure
from services.api_checks import (
    BatchLine,
    CheckResult,
    Found,
    api_feedback,
    batch_check,
    check_subject,
    viewer_for,
)
from services.api_idempotency import Claim, finish_in
from services.subjects import SubjectBrief

router = APIRouter(tags=["逢办必查"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IDEMPOTENCY_DOC = "幂等键：重试同一请求时携带相同的值，返回第一次的结果而不重复写入"


def check_out(result: CheckResult, brief: SubjectBrief) -> CheckOut:
    return CheckOut(
        check_id=result.check_id,
        subject=brief_out(Found(result.subject_id, brief)),
        matter=result.matter,
        matter_label=MATTERS[result.matter],
        measures=[measure_out(m) for m in result.measures],
        listings=[listing_out(item) for item in result.listings],
        not_restricted=[NotRestrictedOut(list=n.list_name, department=n.department, since=n.since, reason=n.why)
                        for n in result.answer.not_restricted],
        notes=list(result.answer.notes),
        catalogue=result.answer.catalogue,
    )


def measure_out(m: Measure) -> MeasureOut:
    return MeasureOut(
        text=m.text, basis=f"{m.reason}；法律依据：{m.basis_text}", key=m.key, list_type=m.list_type,
        list_name=m.list_name, legal_basis=list(m.basis), implementer=m.implementer, measure_kind=m.kind,
        reaches=[REACHES[r] for r in m.reaches], confirmed=m.confirmed, qingdan_no=m.qingdan_no or None,
    )


@router.post("/v1/checks", summary="发起核查（发起 → 响应）", response_model=CheckOut,
             responses=problem_responses(
                 400, *KEYED, 404, 409, s404="没有找到主体（candidates 为最接近的名称），未发起核查",
                 s409="名称对应多个主体（candidates 为候选），未发起核查，请用统一社会信用代码指明；或"
                      + IDEMPOTENT_409))
async def create_check(
    request: Request,
    principal: CheckKey,
    body: CheckIn,
    idempotency_key: str | None = Header(None, max_length=128, description=IDEMPOTENCY_DOC),
) -> Response:
    """按本部门办理的事项返回应采取的联合惩戒措施及其依据，并记录这次核查。名称不能唯一确定主体时
    不核查，返回候选（409 或 404），请用统一社会信用代码重新发起。"""

    async def work(held: Claim | None) -> Answer:
        svc = services_of(request)
        viewer = viewer_for(principal, svc.settings.privacy.mask_person_names, svc.settings.privacy.mask_addresses)

        answer: dict[str, object] = {}

        async def keep(conn: AsyncConnection, lines: list[BatchLine]) -> None:
            if lines[0].result is not None:  # only a check made is an answer (and kept for the key)
                answer.update(_check_body(lines[0]))
                if held is not None:
                    await finish_in(conn, held, 200, answer)

        line = await check_subject(svc, principal, viewer, body.subject, body.matter, svc.today(),
                                   allow_id_number="idquery" in principal.scopes, case_number=body.case_number,
                                   operator=body.operator, within=keep)
        res = line.resolution
        if line.result is None or res.subject is None:
            status = 409 if res.status == "ambiguous" else 404
            raise ApiProblem(status, (res.note or "没有找到主体") + "，未发起核查。",
                             {"candidates": [brief_out(c).model_dump() for c in res.candidates]})
        return Answer(200, answer, stored=held is not None)

    return await run_once(request, principal, idempotency_key, work)


def _check_body(line: BatchLine) -> dict[str, object]:
    assert line.result is not None and line.resolution.subject is not None
    return check_out(line.result, line.resolution.subject.brief).model_dump(mode="json")


@router.post("/v1/checks/{check_id}/feedback", summary="反馈办理结果", response_model=FeedbackOut,
             responses=problem_responses(400, *KEYED, 404, 409, s404="没有这次核查，或它不是本接入系统发起的",
                                         s409="这次核查已反馈过其他结果（recorded_outcome 为已记录的结果）"))
async def feedback(
    request: Request,
    principal: CheckKey,
    body: FeedbackIn,
    check_id: int = Path(ge=1, le=2**31 - 1, description="发起核查时返回的 check_id"),
) -> FeedbackOut:
    """每次核查只能反馈一次；同一反馈重复提交返回 200（repeated=true），不会重复记录；不同的反馈返回 409。"""
    svc = services_of(request)
    viewer = viewer_for(principal)
    result = await api_feedback(svc.db, principal, viewer, check_id, body.outcome, body.note)
    return FeedbackOut(check_id=result.check_id, outcome=result.outcome, note=result.note,
                       recorded_at=result.at, repeated=result.repeated)


@router.post("/v1/checks/batch", summary="批量核查（最多 1000 个主体）", response_model=BatchOut,
             responses={**problem_responses(400, *KEYED, 409, s409=IDEMPOTENT_409),
                        200: {"content": {XLSX: {}}, "description": "JSON，或 format=xlsx 时的 Excel 文件"}})
async def create_batch(
    request: Request,
    principal: CheckKey,
    body: BatchIn,
    format: Literal["json", "xlsx"] = Query("json", description="json 或 xlsx（供采购人员下载的 Excel 表）"),
    idempotency_key: str | None = Header(None, max_length=128, description=IDEMPOTENCY_DOC),
) -> Response:
    """每个已确定的主体都记录为一次核查；名称不能唯一确定的行不核查，给出候选。带 Idempotency-Key 重试时
    返回第一次的结果（JSON 或 Excel 均可），不会再次记录核查。"""

    async def work(held: Claim | None) -> Answer:
        svc = services_of(request)
        viewer = viewer_for(principal, svc.settings.privacy.mask_person_names, svc.settings.privacy.mask_addresses)

        answer: dict[str, object] = {}

        async def keep(conn: AsyncConnection, lines: list[BatchLine]) -> None:
            answer.update(_batch_body(body.matter, lines))
            if held is not None:
                await finish_in(conn, held, 200, answer)

        await batch_check(
            svc, principal, viewer, body.subjects, body.matter, svc.today(),
            allow_id_number="idquery" in principal.scopes,
            case_number=body.case_number, operator=body.operator, within=keep,
        )
        return Answer(200, answer, stored=held is not None)

    def render(status: int, out: dict[str, object], headers: dict[str, str]) -> Response:
        if format == "xlsx":
            headers = {**headers, "Content-Disposition": "attachment; filename*=UTF-8''batch-check.xlsx"}
            return Response(batch_workbook(BatchOut.model_validate(out)), status_code=status, media_type=XLSX,
                            headers=headers)
        return JSONResponse(out, status_code=status, headers=headers)

    return await run_once(request, principal, idempotency_key, work, render)


def _batch_body(matter: str, lines: list[BatchLine]) -> dict[str, object]:
    out_lines = []
    for line in lines:
        res, result = line.resolution, line.result
        cats = {item.category for item in result.listings} if result else set()
        out_lines.append(BatchLineOut(
            index=line.index, query=line.query, resolved=result is not None, status=res.status,  # type: ignore[arg-type]
            note=None if result else res.note, candidates=[brief_out(c) for c in res.candidates],
            check=check_out(result, res.subject.brief) if result and res.subject else None,
            blacklist=BLACKLIST in cats, abnormal_list=ABNORMAL_LIST in cats,
        ))
    out = BatchOut(
        matter=matter, total=len(lines), resolved=sum(1 for x in out_lines if x.resolved),
        with_measures=sum(1 for x in out_lines if x.check and x.check.measures), lines=out_lines,
    )
    return out.model_dump(mode="json")
