"""PDFs of a repair: the 信用修复告知书 (served with the penalty or listing decision, 两书同达) and
the 信用修复决定书. Same font, layout and verification block as the credit report and the
事前告知书 (render/pdf.py); what they say comes from services/repair_documents.py and the rule texts
of rules/repair_case.py."""

from __future__ import annotations

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from render.pdf import _build, _cn, _p, _styles
from render.seal import seal_block
from rules import repair_case as rc
from services.repair_documents import RepairDecisionData, RepairNoticeData


def _you(code_label: str) -> str:
    return "你" if code_label == "身份证号" else "你单位"


def render_repair_notice(data: RepairNoticeData, platform: str) -> bytes:
    """信用修复告知书: the record, whether and until when it is published, the earliest repair date,
    the conditions, the materials and where to apply."""
    party, you = data.party, _you(data.party.code_label)
    what = "列入严重失信主体名单" if data.category == "严重失信主体名单" else "行政处罚"
    if data.published and data.last_public_day:
        shown = f"该信息将依法向社会公示，公示至{_cn(data.last_public_day)}（最长公示期）。"
    elif data.published:
        shown = "该信息将依法向社会公示。"
    else:
        shown = "该信息属于轻微失信信息，依规不予公示，仅在政务部门间共享。"
    if data.earliest_repair > data.decision_date:
        when = f"{you}最早可于{_cn(data.earliest_repair)}（最短公示期届满后）申请信用修复。"
    else:
        when = f"{you}在法定责任和义务履行完毕后即可申请信用修复。"
    story = [
        _p("信用修复告知书", "title"),
        _p(data.number, "number"),
        _p(f"{party.subject_name}（{party.code_label}：{party.code}）："),
        Spacer(1, 2 * mm),
        _p(
            f"本机关于{_cn(data.decision_date)}对{you}作出{what}决定（{data.doc_number}"
            + (f"，{data.title}" if data.title else "")
            + f"），失信程度：{data.severity}。{shown}",
            "indent",
        ),
        _p("一、申请信用修复的时间", "h2"),
        _p(when, "indent"),
        _p("二、申请条件", "h2"),
        *[_p(f"{i}. {c}") for i, c in enumerate(rc.CONDITIONS, 1)],
        _p("三、申请材料", "h2"),
        *[_p(f"{i}. {m}") for i, m in enumerate(rc.MATERIALS, 1)],
        _p("四、申请渠道", "h2"),
        *[_p(f"{i}. {c}") for i, c in enumerate(rc.CHANNELS, 1)],
        _p("五、修复的效果", "h2"),
        _p(rc.EFFECTS + "信用修复是免费的公益服务，请勿轻信任何收费“代办”“删除”信息。", "indent"),
        Spacer(1, 10 * mm),
        _p(party.department, "right"),
        _p(_cn(data.issued_on), "right"),
        Spacer(1, 6 * mm),
        _p(f"本告知书与处罚（列入）决定书同步送达（两书同达），由{platform}出具，编号 {data.number}。", "small"),
    ]
    if data.seal is not None:
        story += [Spacer(1, 3 * mm), seal_block(data.seal, _styles(), "告知书")]
    return _build(story, "信用修复告知书", f"{platform} · {data.number}")


def render_repair_decision(data: RepairDecisionData, platform: str) -> bytes:
    """信用修复决定书 (准予 or 不予): the application, the decision and its reason, its effect, how
    to challenge it."""
    party, you = data.party, _you(data.party.code_label)
    came = f"经{data.origin}" + (f"（受理编号 {data.external_ref}）" if data.external_ref else "")
    accepted = f"，本机关于{_cn(data.accepted_on)}受理" if data.accepted_on else ""
    verdict = "准予信用修复" if data.approved else "不予信用修复"
    story = [
        _p(f"{verdict}决定书", "title"),
        _p(data.number, "number"),
        _p(f"{party.subject_name}（{party.code_label}：{party.code}）："),
        Spacer(1, 2 * mm),
        _p(f"{you}于{_cn(data.filed_on)}{came}提出的信用修复申请{accepted}，所涉信息：{data.record}。", "indent"),
        _p(f"经审查，本机关决定：{verdict}。", "indent"),
        _p(f"理由：{data.reason}", "indent"),
    ]
    if data.approved:
        story.append(_p(rc.EFFECTS, "indent"))
    else:
        story.append(_p(f"{you}可在满足信用修复条件后重新申请。", "indent"))
    story.append(_p("对本决定不服的，可依法申请行政复议或者提起行政诉讼。", "indent"))
    if data.missed:
        story.append(_p(data.missed, "small"))
    story += [
        Spacer(1, 10 * mm),
        _p(party.department, "right"),
        _p(_cn(data.decided_on), "right"),
        Spacer(1, 6 * mm),
        _p(f"本决定书由{platform}出具，编号 {data.number}，可下载并凭核验码核验。", "small"),
    ]
    if data.seal is not None:
        story += [Spacer(1, 3 * mm), seal_block(data.seal, _styles(), "决定书")]
    return _build(story, verdict + "决定书", f"{platform} · {data.number}")
