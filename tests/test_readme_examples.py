"""Every chat example of the README answers on the demo a newcomer builds, as the README says.

The examples are read from the README itself (the quick start and the "In the chat" table), so an
example added there without an expectation here fails, and so does one removed from there. Each
runs through the console channel (the real Application over the in-process Bot API) on the demo
archive `make demo` builds (3,000 subjects, the default seed), built once for this module, in a
chat of its own with the role the README gives it. The expected answers were written from the
README's words before running the code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import bot.app as bot_app
from bot.console import ConsoleChat
from bot.transport import InProcessBotAPI, Outgoing
from db.demo.load import build_demo
from db.session import Database
from services.accounts import ensure_local_account
from services.database_setup import prepare_database
from services.evaluation import full_run
from services.settings import DatabaseSettings, Settings
from tests.conftest import TEST_LIMITS
from tests.test_lifecycle_support import pdf_text

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
HENGDA = "安康市恒达建材有限公司"
HENGDA_USCC = "91610900MA60011822"  # the demo's showcase codes are fixed (db/demo/generate.py)
CODE_ON_PAGE = re.compile(r"核验码：([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")
NUMBER_ON_PAGE = re.compile(r"(安信报〔\d{4}〕\d+号)")


def readme_examples() -> set[str]:
    """The backticked items of the quick start and the chat table, in the README as it is now."""
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("## Running for real", 1)[0]
    table = text.split("### In the chat", 1)[1].split("### Where the bot answers", 1)[0]  # with "Which subject"
    prose = re.sub(r"```.*?```", "", quick + table, flags=re.S)  # not the shell blocks
    return set(re.findall(r"`([^`\n]+)`", prose))


# Backticked in those parts but not something typed in the chat; each is checked to be what it says.
NOT_TYPED: dict[str, Callable[[], bool]] = {
    "make demo": lambda: "demo:" in (ROOT / "Makefile").read_text(encoding="utf-8"),
    ".venv": lambda: "VENV := .venv" in (ROOT / "Makefile").read_text(encoding="utf-8"),
    "nlp/data/abbreviations.txt": lambda: (ROOT / "nlp/data/abbreviations.txt").is_file(),
    "query.followup_minutes": lambda: "followup_minutes" in (ROOT / "services/settings.py").read_text(encoding="utf-8"),
    "tests/test_readme_examples.py": lambda: Path(__file__).name == "test_readme_examples.py",
    "services/subject_query.py": lambda: (ROOT / "services/subject_query.py").is_file(),
    "nlp/evidence.py": lambda: (ROOT / "nlp/evidence.py").is_file(),
    "credit": lambda: 'role = "credit"' in (ROOT / "db/data/region_610900.toml").read_text(encoding="utf-8"),
    "#N": lambda: True,  # the console's button press, exercised by the examples that press #1
}


@dataclass(frozen=True)
class Example:
    """Lines typed by a user of `role` (bound to `dept` / `subject`); `expect`: text each of the
    answers to the last line must contain (all of them, in any message); `document`: a file is sent."""

    lines: tuple[str, ...]
    expect: tuple[str, ...] = ()
    role: str = "official"
    dept: str | None = "SCJGJ"
    subject: str | None = None
    document: bool = False
    absent: tuple[str, ...] = field(default=())


def card(name: str, *more: str) -> tuple[str, ...]:
    return (f"【{name}】", *more)


ENTERPRISE = {"role": "enterprise", "dept": None, "subject": HENGDA_USCC}
COLLECTOR = {"role": "collector", "dept": "SCJGJ"}
ADMIN = {"role": "admin", "dept": "FGW"}
# `/checkreport 编号 核验码` needs a real number and code: read off the report the line before issues.
CHECK_REPORT = "/checkreport {number} {code}"
# `/report 专项 USCC 授权码` needs a code the subject issued: its enterprise account issues one first.
SPECIAL_WITH_CODE = "/report 专项 {uscc} {code}"
SPECIAL_CODE = re.compile(r"专项信用报告授权码：([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")

EXAMPLES: dict[str, Example] = {
    # Quick start.
    "查询 安康市恒达建材有限公司": Example(("查询 安康市恒达建材有限公司",), card(HENGDA, "逢办必查")),
    # "four subjects carry the name … so the bot lists them and asks which", then #N opens one.
    "恒达建材": Example(("恒达建材",), ("请选择", HENGDA, "汉阴县恒达建材有限公司", "安康市恒达建材有限责任公司",
                                    "安康市恒达建材有限公司石泉分公司")),
    "91610900MA60011823": Example(("91610900MA60011823",), ("校验位不正确", HENGDA)),
    "汉阴的恒达": Example(("汉阴的恒达",), card("汉阴县恒达建材有限公司")),
    "hdjc": Example(("hdjc",), ("请选择", HENGDA)),
    "/help": Example(("/help",), ("信用通", "/report", "/cancel")),
    # The chat table, everyone.
    "changhong": Example(("changhong",), card("安康市长虹电器有限公司")),
    "恒达建材有没有行政处罚": Example(("恒达建材有没有行政处罚", "#1"), card(HENGDA, "—— 行政处罚：1 条"),
                                  absent=("[行政许可]", "[检查抽查]")),
    "旬阳县华泰百货有限公司": Example(("旬阳县华泰百货有限公司",),
                                    card("旬阳县华泰商贸有限公司", "“旬阳县华泰百货有限公司”是该主体的曾用名。")),
    "瀛湖渔业": Example(("瀛湖渔业",), card("安康瀛湖渔业发展有限公司")),
    "瑞祥商贸": Example(("瑞祥商贸",), card("瑞祥商贸（安康）有限公司")),
    "恒达建材石泉分公司": Example(("恒达建材石泉分公司",), card("安康市恒达建材有限公司石泉分公司")),
    "石泉恒达": Example(("石泉恒达",), card("安康市恒达建材有限公司石泉分公司")),
    "关庙双溪村": Example(("关庙双溪村",), card("汉滨区关庙镇双溪村股份经济合作社")),
    "张记蒸面管": Example(("张记蒸面管",), card("汉滨区老街张记蒸面馆")),
    "汉滨疾控": Example(("汉滨疾控",), card("安康市汉滨区疾病预防控制中心")),
    "邮储银行安康分行": Example(("邮储银行安康分行",), card("中国邮政储蓄银行股份有限公司安康市分行")),
    "旬阳人社局": Example(("旬阳人社局",), card("旬阳市人力资源和社会保障局")),
    "建行安康分行": Example(("建行安康分行",), card("中国建设银行股份有限公司安康分行")),
    "71093627-6": Example(("71093627-6",), card("安康市恒信招标代理有限公司")),
    "组织机构代码：71093627-6": Example(("组织机构代码：71093627-6",), card("安康市恒信招标代理有限公司")),
    # The local forms of national operators' and utilities' branches, mixed pinyin, an English name,
    # a name inside a sentence, and two subjects in one message (one answer each).
    "安康电信": Example(("安康电信",), card("中国电信股份有限公司安康分公司")),
    "汉阴供电公司": Example(("汉阴供电公司",), card("国网陕西省电力有限公司汉阴县供电分公司")),
    "hengda建材": Example(("hengda建材",), ("请选择", HENGDA, "汉阴县恒达建材有限公司")),
    "Ankang Hengda Building Materials Co., Ltd.": Example(("Ankang Hengda Building Materials Co., Ltd.",),
                                                          ("请选择", HENGDA)),
    "帮我看看恒达建材这家靠谱吗": Example(("帮我看看恒达建材这家靠谱吗",), ("请选择", HENGDA, "汉阴县恒达建材有限公司")),
    # Which subject, or an honest question: a typed word that contradicts the name is an offer, never a card.
    "鑫源林业": Example(("鑫源林业",), ("没有找到与“鑫源林业”相符的主体（名称相近的主体行业不同）", "安康市鑫源矿业有限公司"),
                        absent=("【安康市鑫源矿业有限公司】",)),
    "汉阴县瀛湖林业有限公司": Example(("汉阴县瀛湖林业有限公司",), ("名称相近的主体所在地区或登记层级不同", "安康市瀛湖林业有限公司"),
                                    absent=("【安康市瀛湖林业有限公司】",)),
    "陕西省瀛湖林业有限公司": Example(("陕西省瀛湖林业有限公司",), ("名称相近的主体所在地区或登记层级不同", "安康市瀛湖林业有限公司"),
                                    absent=("【安康市瀛湖林业有限公司】",)),
    "汉滨区物流协会": Example(("汉滨区物流协会",), ("名称相近的主体所在地区或登记层级不同", "安康市物流协会"),
                            absent=("【安康市物流协会】",)),
    "汉阴恒达建材有限责任公司": Example(("汉阴恒达建材有限责任公司",), ("名称相近的主体组织形式不同", "汉阴县恒达建材有限公司"),
                                      absent=("【汉阴县恒达建材有限公司】",)),
    "安康恒达建材石泉分公司的总公司": Example(("安康恒达建材石泉分公司的总公司",), card(HENGDA),
                                            absent=("【安康市恒达建材有限公司石泉分公司】",)),
    "瀛湖林业和鑫源矿业": Example(("瀛湖林业和鑫源矿业",), card("安康市瀛湖林业有限公司", "【安康市鑫源矿业有限公司】")),
    # Follow-ups name no subject: the one last shown in that chat.
    "许可呢": Example((HENGDA, "许可呢"), card(HENGDA, "—— 行政许可：", "排污许可证"), absent=("[行政处罚]",)),
    "政府采购": Example((HENGDA, "政府采购"), (f"逢办必查：{HENGDA} · 办理事项：政府采购",)),
    "更多": Example((HENGDA, "更多"), card(HENGDA, "全部信用记录：3 条")),
    "/whoami": Example(("/whoami",), ("角色：办事人员", "部门：安康市市场监督管理局")),
    "/bind": Example(("/bind",), ("绑定码",), role="public", dept=None),
    "/unbind": Example(("/unbind",), ("确定要解除绑定吗",)),
    "/checkreport 编号 核验码": Example(("/report 鑫源矿业", CHECK_REPORT), ("核验通过", "安康市鑫源矿业有限公司")),
    "/cancel": Example(("/cancel",), ("当前没有进行中的操作",)),
    # Businesses and persons (an enterprise account bound to 恒达).
    "/declare": Example(("/declare",), ("自主申报",), **ENTERPRISE),
    "/linkcode USCC": Example((f"/linkcode {HENGDA_USCC}",), (f"已为{HENGDA}签发授权码",), **ENTERPRISE),
    "/linkcode revoke 编号": Example((f"/linkcode {HENGDA_USCC}", "/linkcode", "/linkcode revoke 1"), ("已撤销",),
                                    **ENTERPRISE),
    "/report [近N年]": Example(("/report 近3年",), (f"{HENGDA} 信用报告",), document=True, **ENTERPRISE),
    "/report 专项 [近N年] [领域…]": Example(("/report 专项 近3年",), (f"{HENGDA} 专项信用报告", "近 3 年"),
                                         document=True, **ENTERPRISE),
    "/report 专项 授权": Example(("/report 专项 授权",), ("专项信用报告授权码", "仅可使用一次"), **ENTERPRISE),
    "/documents": Example(("/report 专项", "/documents"), ("可获取的文书", "专项信用报告"), **ENTERPRISE),
    "/objection": Example(("/objection",), ("请选择要提出异议的记录",), **ENTERPRISE),
    "/repair": Example(("/repair",), ("请选择要申请信用修复的记录",), **ENTERPRISE),
    # Officials.
    "/report NAME": Example(("/report 鑫源矿业",), ("安康市鑫源矿业有限公司 信用报告",), document=True),
    "/propose": Example(("/propose",), ("拟列入严重失信主体名单（事前告知）",), dept="RSJ"),  # the labour department decides a list
    "/objections": Example(("/objections",), ("异议",)),
    "/repairs": Example(("/repairs",), ("信用修复",)),
    "/report 专项 USCC 授权码": Example((SPECIAL_WITH_CODE,), (f"{HENGDA} 专项信用报告",), document=True),
    "/mask": Example(("/mask",), ("用法：/mask 统一社会信用代码",), dept="FGW"),
    "/masks": Example(("/masks",), ("当前没有生效的暂时屏蔽",), dept="FGW"),
    "/unmask": Example(("/unmask",), ("用法：/unmask 登记号",), dept="FGW"),
    "/linkcode USCC或身份证号": Example((f"/linkcode {HENGDA_USCC}",), (f"已为{HENGDA}签发授权码",), dept="FGW"),
    "/undelivered": Example(("/undelivered",), ("未能送达的通知",)),
    # Collectors.
    "/due": Example(("/due 2026-09-28 行政处罚",), ("7 个工作日",), **COLLECTOR),
    "/mytasks": Example(("/mytasks",), ("报送待办",), **COLLECTOR),
    "/zero": Example(("/zero",), ("本期",), **COLLECTOR),
    # Admins.
    "/linkcode": Example(("/linkcode",), ("授权码",), **ADMIN),
    "/stats": Example(("/stats",), ("逢办必查",), **ADMIN),
    "/duties": Example(("/duties",), ("报送职责",), **ADMIN),
    "/overdue": Example(("/overdue",), ("报送",), **ADMIN),
    "/ontime": Example(("/ontime",), ("按时报送率",), document=True, **ADMIN),
    "/grades": Example(("/grades",), ("信用等级",), document=True, **ADMIN),
    "/grades 行业": Example(("/grades 行业",), ("行业",), document=True, **ADMIN),
    "/grades 变化": Example(("/grades 变化",), ("等级变化",), **ADMIN),
    # Officials and the evaluation.
    "/watch NAME": Example(("/watch 鑫源矿业",), ("已关注“安康市鑫源矿业有限公司”",)),
    "/watchlist": Example(("/watch 鑫源矿业", "/watchlist"), ("您关注的主体（1 个）", "安康市鑫源矿业有限公司")),
    "/risklist": Example(("/risklist",), ("高风险",)),
}


@dataclass
class Demo:
    app: object
    transport: InProcessBotAPI
    db: Database
    next_user: int = 600_000


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Demo]:
    """The archive `make demo` builds (3,000 subjects, default seed, graded as the demo does)."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
    settings = Settings(database=DatabaseSettings(url=url), limits=TEST_LIMITS)
    db = Database(url)
    transport = InProcessBotAPI()
    app = bot_app.build_application(settings, transport, db=db)
    async with app:
        await prepare_database(db, settings.region.division_code)
        await build_demo(db, n_subjects=3000, id_key=settings.privacy.id_hash_key)
        await full_run(db, dt.datetime.now(settings.tz).date())  # as `creditbot demo` does
        await bot_app.start_services(app)
        yield Demo(app, transport, db)


async def conversation(demo: Demo, ex: Example) -> list[Outgoing]:
    """Run the example's lines in a fresh chat; returns what answered the last one."""
    demo.next_user += 1
    await ensure_local_account(demo.db, demo.next_user, ex.role, ex.dept, ex.subject, "读者")
    chat = ConsoleChat(demo.app, demo.transport, demo.next_user)  # type: ignore[arg-type]
    out: list[Outgoing] = []
    for line in ex.lines:
        if line == CHECK_REPORT:
            pdf = next(o.content for o in reversed(out) if o.content)
            text = pdf_text(pdf)
            number, code = NUMBER_ON_PAGE.search(text), CODE_ON_PAGE.search(text)
            assert number and code, "the report carries its number and verification code"
            line = CHECK_REPORT.format(number=number.group(1), code=code.group(1))
        elif line == SPECIAL_WITH_CODE:
            line = SPECIAL_WITH_CODE.format(uscc=HENGDA_USCC, code=await special_code(demo))
        out = await chat.handle_line(line)
    return out


async def special_code(demo: Demo) -> str:
    """A 专项信用报告 授权码 issued by 恒达's own enterprise account, as the README describes."""
    demo.next_user += 1
    await ensure_local_account(demo.db, demo.next_user, "enterprise", None, HENGDA_USCC, "企业")
    chat = ConsoleChat(demo.app, demo.transport, demo.next_user)  # type: ignore[arg-type]
    said = "\n".join(o.text or "" for o in await chat.handle_line("/report 专项 授权"))
    found = SPECIAL_CODE.search(said)
    assert found, said
    return found.group(1)


def test_every_readme_example_has_an_expectation() -> None:
    found = readme_examples()
    assert found - set(NOT_TYPED) == set(EXAMPLES), "README examples and this test's expectations differ"
    for item, holds in NOT_TYPED.items():
        assert item in found and holds(), item


@pytest.mark.parametrize("example", list(EXAMPLES))
async def test_readme_example_answers_as_promised(demo: Demo, example: str) -> None:
    ex = EXAMPLES[example]
    out = await conversation(demo, ex)
    said = "\n".join((o.text or "") + " " + " ".join(label for row in o.buttons for label in row) for o in out)
    for part in ex.expect:
        assert part in said, f"{example}: “{part}” missing from {said[:400]!r}"
    for part in ex.absent:
        assert part not in said, f"{example}: “{part}” should not be in {said[:400]!r}"
    assert any(o.content for o in out) == ex.document, example
    assert not demo.transport.refused, demo.transport.refused
    assert "抱歉" not in said  # never the apology for a failure
