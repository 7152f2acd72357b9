"""Record push (信息报送): one batch of one template, all rows or none."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import Response

from bot.api.idempotency import Answer, run_once
from bot.api.problems import IDEMPOTENT_409, KEYED, ApiProblem, problem_responses
from bot.api.routes_checks import IDEMPOTENCY_DOC
from bot.api.routes_subjects import services_of
from bot.api.schemas import PushIn, PushOut
from bot.api.security import PushKey
from services.api_idempotency import Claim
from services.api_push import push_records

router = APIRouter(tags=["信息报送"])


@router.post(
    "/v1/records/{template}", summary="报送一批信用记录", response_model=PushOut,
    responses=problem_responses(
        400, *KEYED, 409, s409=IDEMPOTENT_409,
        s422="有记录未通过校验：未写入任何记录，errors 列出每条的序号（index）、列（field）和原因；或请求内容无效"),
)
async def push(
    request: Request,
    principal: PushKey,
    body: PushIn,
    template: Literal["penalty", "license", "subjects", "generic"] = Path(
        description="模板：penalty 行政处罚，license 行政许可，subjects 主体名录，generic 通用模板（其他类别）"),
    idempotency_key: str | None = Header(None, max_length=128, description=IDEMPOTENCY_DOC),
) -> Response:
    """与导入文件同样校验，全部写入或全部不写；按来源部门 + 文书号幂等：再次报送同一记录为“未变化”，
    内容有改动为“更新”并保留历史。写入后计入本部门的报送职责与期限。"""

    async def work(_held: Claim | None) -> Answer:
        svc = services_of(request)
        assert svc.calendar is not None
        result = await push_records(
            svc.db, principal, template, body.rows, id_key=svc.settings.privacy.id_hash_key, today=svc.today(),
            calendar=svc.calendar, tz=svc.settings.tz, operator=body.operator,
        )
        if result.fatal:
            raise ApiProblem(422, f"无法报送：{result.fatal}。未写入任何记录。")
        if result.error_count:
            raise ApiProblem(
                422, f"发现 {result.error_count} 处错误，未写入任何记录。",
                {"errors": [{"index": e.index, "field": e.field, "reason": e.reason} for e in result.errors]},
            )
        out = PushOut(
            template=result.template, rows=result.rows, written=result.written, new=result.new,
            updated=result.updated, unchanged=result.unchanged, subjects_created=result.subjects_created,
            periods=[f"{c}:{p}" for c, p in result.periods], ignored_columns=result.ignored_columns,
        )
        return Answer(200, out.model_dump(mode="json"))

    return await run_once(request, principal, idempotency_key, work)
