"""Health, look-up and credit files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from bot.api.problems import KEYED, ApiProblem, problem_responses
from bot.api.schemas import (
    CreditFileOut,
    FlagsOut,
    HealthOut,
    IdNumberIn,
    ListingOut,
    LookupOut,
    MatterOut,
    NameText,
    RecordOut,
    RelatedOut,
    SubjectBriefOut,
    SubjectOut,
)
from bot.api.security import IdQueryKey, LookupKey, QueryKey
from nlp.codes_in_text import find_codes
from rules.categories import ABNORMAL_LIST, BLACKLIST
from rules.codes import validate_ric, validate_uscc
from rules.legacy_codes import is_old_ric, ric_15_to_18
from rules.measures import MATTERS, ListingFact
from services.api_checks import (
    Found,
    audit_lookup,
    credit_file,
    resolve_subject,
    subject_id_by_code,
    subject_id_by_id_number,
    viewer_for,
)
from services.apikeys import Principal
from services.lookup import SubjectCard
from services.resolver_port import resolver_of
from services.runtime import Services

router = APIRouter()
def services_of(request: Request) -> Services:
    return request.app.state.api.services  # type: ignore[no-any-return]


def brief_out(found: Found) -> SubjectBriefOut:
    b = found.brief
    return SubjectBriefOut(name=b.name, kind=b.kind, uscc=b.uscc, id_masked=b.id_masked, division=b.division)


def listing_out(item: ListingFact) -> ListingOut:
    return ListingOut(list=item.category, department=item.department, since=item.since, basis=item.basis,
                      list_type=item.list_type, list_name=item.list_name)


def card_out(card: SubjectCard) -> CreditFileOut:
    records: dict[str, list[RecordOut]] = {}
    for r in card.records:
        records.setdefault(r.category, []).append(RecordOut(
            doc_number=r.doc_number, department=r.department, decision_date=r.decision_date, title=r.title,
            severity=r.severity, status=r.status, published=r.published, publication_end=r.last_public_day,
            objection_pending=r.objection_pending,
        ))
    return CreditFileOut(
        subject=SubjectOut(name=card.name, kind=card.kind, code_label=card.code_label, code=card.code,
                           legal_rep=card.legal_rep, division=card.division, address=card.address,
                           status=card.status),
        flags=FlagsOut(
            blacklist=any(item.category == BLACKLIST for item in card.listings),
            abnormal_list=any(item.category == ABNORMAL_LIST for item in card.listings),
            listings=[listing_out(item) for item in card.listings],
        ),
        records=records,
        related=[
            RelatedOut(name=r.name, code=r.code, relation=r.relation,
                       lists=list(dict.fromkeys(item.list_name or item.category for item in r.listings)),
                       measures=[m.text for m in r.measures])
            for r in card.related
        ],
    )


@router.get("/healthz", tags=["健康检查"], summary="存活检查", response_model=HealthOut,
            responses=problem_responses())
async def healthz() -> HealthOut:
    return HealthOut(status="ok")


@router.get("/readyz", tags=["健康检查"], summary="就绪检查（名称索引已加载）", response_model=HealthOut,
            responses=problem_responses(s503="名称索引尚未加载完成，或服务繁忙"))
async def readyz(request: Request) -> HealthOut | JSONResponse:
    from bot.api.problems import problem

    state = request.app.state.api
    resolver = resolver_of(state.services)
    if not state.ready or not resolver.ready():
        return problem(503, "名称索引尚未加载完成，请稍后重试。")
    return HealthOut(status="ok", subjects_indexed=resolver.size())


@router.get("/v1/matters", tags=["逢办必查"], summary="办理事项列表", response_model=list[MatterOut],
            responses=problem_responses())
async def matters() -> list[MatterOut]:
    return [MatterOut(code=k, label=v) for k, v in MATTERS.items()]


@router.get("/v1/lookup", tags=["主体查询"], summary="按名称、简称或代码确定主体", response_model=LookupOut,
            responses=problem_responses(*KEYED, s422="请求内容无效；身份证号不能放在查询地址中"))
async def lookup(
    request: Request,
    principal: LookupKey,
    q: Annotated[NameText, Query(min_length=1, max_length=200, description="名称、简称、曾用名、拼音首字母或统一社会信用代码")],
    operator: Annotated[NameText | None, Query(max_length=64, description="经办人（写入审计记录）")] = None,
) -> LookupOut:
    """只有确定无误时才返回 clear；几个主体都相近时返回 ambiguous 与候选，绝不猜一个。
    身份证号不能放在地址中（会进入访问日志），请用 POST /v1/subjects/by-id-number。"""
    if find_codes(q)[1]:
        raise ApiProblem(422, "身份证号不能放在查询地址中，请使用 POST /v1/subjects/by-id-number（号码放在请求体中）。")
    svc = services_of(request)
    viewer = viewer_for(principal, svc.settings.privacy.mask_person_names, svc.settings.privacy.mask_addresses)
    res = await resolve_subject(svc, viewer, q, allow_id_number="idquery" in principal.scopes)
    await audit_lookup(svc.db, principal, res, operator)
    return LookupOut(status=res.status, subject=brief_out(res.subject) if res.subject else None,  # type: ignore[arg-type]
                     candidates=[brief_out(c) for c in res.candidates], note=res.note)


async def _file(request: Request, principal: Principal, subject_id: int | None, operator: str | None) -> CreditFileOut:
    svc = services_of(request)
    if subject_id is None:
        raise ApiProblem(404, "档案中没有该主体。")
    viewer = viewer_for(principal, svc.settings.privacy.mask_person_names, svc.settings.privacy.mask_addresses)
    card = await credit_file(svc.db, principal, viewer, subject_id, svc.today(), operator)
    if card is None:
        raise ApiProblem(404, "档案中没有该主体。")
    return card_out(card)


@router.get("/v1/subjects/{uscc}", tags=["主体查询"], summary="按统一社会信用代码查看信用档案",
            response_model=CreditFileOut,
            responses=problem_responses(*KEYED, 404, s404="档案中没有该主体", s422="统一社会信用代码有误，或请求内容无效"))
async def subject_file(
    request: Request,
    principal: QueryKey,
    uscc: str = Path(max_length=40, description="18 位统一社会信用代码"),
    operator: Annotated[NameText | None, Query(max_length=64, description="经办人（写入审计记录）")] = None,
) -> CreditFileOut:
    check = validate_uscc(uscc, repair=True)
    if not check.ok:
        raise ApiProblem(422, f"统一社会信用代码有误：{check.error}")
    return await _file(request, principal, await subject_id_by_code(services_of(request).db, check.value), operator)


@router.post("/v1/subjects/by-id-number", tags=["主体查询"], summary="按身份证号查看自然人信用档案",
             response_model=CreditFileOut,
             responses=problem_responses(400, *KEYED, 404, s404="档案中没有该自然人", s422="身份证号码有误，或请求内容无效"))
async def person_file(
    request: Request, body: IdNumberIn, principal: IdQueryKey
) -> CreditFileOut:
    """身份证号放在请求体中而不是地址里，避免出现在访问日志中；返回的号码始终脱敏。
    18 位或 15 位（第一代，按 18 位查询）。"""
    digits = "".join(body.id_number.split())
    if len(digits) == 15 and digits.isdigit():
        if not is_old_ric(digits):
            raise ApiProblem(422, "身份证号码有误：15 位号码中的出生日期无效。")
        digits = ric_15_to_18(digits)
    check = validate_ric(digits)
    if not check.ok:
        raise ApiProblem(422, f"身份证号码有误：{check.error}")
    svc = services_of(request)
    sid = await subject_id_by_id_number(svc.db, check.value, svc.settings.privacy.id_hash_key)
    return await _file(request, principal, sid, body.operator)
