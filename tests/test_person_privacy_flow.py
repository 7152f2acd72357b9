"""Natural persons are not a public directory: the public and enterprises never find one by name.

Whole conversations through the console transport on both databases. Expected answers written from
the rule (rules.roles.may_find_by_name): "not found" in the very words a name nobody bears gets.
"""

from __future__ import annotations

from sqlalchemy import select

from db.models import AccountSubject, Subject
from db.models.archive import Account
from rules.codes import complete_ric, complete_uscc
from rules.masking import id_match_key
from tests.conftest import BotHarness
from tests.test_query_flow import texts

WANG_ID = complete_ric("61090219900101804")
CHEN_ID = complete_ric("61090219880203925")
SHOP = complete_uscc("92610902MA70XY001")
COMPANY = complete_uscc("91610902MA70WF002")


async def seed(harness: BotHarness) -> dict[str, int]:
    async with harness.db.transaction() as s:
        wang = Subject(
            kind="自然人", name="王芳", division_code="610902",
            id_hash=id_match_key(WANG_ID, "creditbot-demo-key"), id_masked=WANG_ID[:6] + "********" + WANG_ID[-4:],
        )  # fmt: skip
        chen = Subject(
            kind="自然人", name="陈志强", division_code="610902",
            id_hash=id_match_key(CHEN_ID, "creditbot-demo-key"), id_masked=CHEN_ID[:6] + "********" + CHEN_ID[-4:],
        )  # fmt: skip
        shop = Subject(kind="个体工商户", name="汉滨区秀英日用品店", uscc=SHOP, division_code="610902", legal_rep="张秀英")
        company = Subject(kind="法人", name="安康市王芳商贸有限公司", uscc=COMPANY, division_code="610902", legal_rep="王芳")
        s.add_all([wang, chen, shop, company])
        await s.flush()
        ids = {"wang": wang.id, "chen": chen.id, "shop": shop.id, "company": company.id}
    await harness.refresh()
    return ids


def everything(harness: BotHarness) -> str:
    return "\n".join((o.text or "") + " ".join(b for row in o.buttons for b in row) for o in harness.transport.sent)


async def test_public_gets_not_found_for_a_person_by_name_in_the_words_of_a_missing_company(harness: BotHarness) -> None:
    await seed(harness)
    public = await harness.chat("public")
    missing = texts(await harness.say(public, "陈志强"))
    assert missing.startswith("没有找到与“陈志强”相符的主体。")
    nobody = texts(await harness.say(public, "宇宙飞船制造集团"))
    assert missing.replace("陈志强", "X") == nobody.replace("宇宙飞船制造集团", "X")
    # Pinyin initials and a partial name offer no person either.
    for typed in ("czq", "陈志"):
        out = await harness.say(public, typed)
        assert "陈" not in " ".join(b for o in out for row in o.buttons for b in row)
        assert "没有找到" in texts(out)
    assert "身份证号" not in everything(harness) and "610902" not in everything(harness)


async def test_a_person_name_shared_by_a_company_offers_only_the_company(harness: BotHarness) -> None:
    await seed(harness)
    enterprise = await harness.chat("enterprise", subject=COMPANY)
    out = await harness.say(enterprise, "王芳")
    shown = texts(out) + " ".join(b for o in out for row in o.buttons for b in row)
    assert "安康市王芳商贸有限公司" in shown
    assert "王*" not in shown and "身份证号" not in shown


async def test_staff_still_find_persons_by_name_and_initials(harness: BotHarness) -> None:
    await seed(harness)
    official = await harness.chat("official", dept="SCJGJ")
    card = texts(await harness.say(official, "陈志强"))
    assert card.startswith("【陈志强】") and f"{CHEN_ID[:6]}********{CHEN_ID[-4:]}" in card
    offered = await harness.say(official, "czq")
    assert any("陈志强" in b for row in offered[0].buttons for b in row)


async def test_a_person_bound_to_the_account_still_sees_its_own_file(harness: BotHarness) -> None:
    ids = await seed(harness)
    own = await harness.chat("public", user_id=700_001)
    async with harness.db.transaction() as s:
        account = await s.scalar(select(Account).where(Account.telegram_user_id == 700_001))
        assert account is not None
        s.add(AccountSubject(account_id=account.id, subject_id=ids["wang"]))
    card = texts(await harness.say(own, "王芳"))
    assert card.startswith("【王芳】\n主体类别：自然人") and f"{WANG_ID[:6]}********{WANG_ID[-4:]}" in card
    stranger = await harness.chat("public")
    other = await harness.say(stranger, "陈志强")
    assert "没有找到" in texts(other)


async def test_a_forged_pick_button_for_a_person_shows_nothing(harness: BotHarness) -> None:
    """The card itself refuses (services.lookup.load_card), whatever door asked for the id."""
    import datetime as dt

    from rules.roles import Viewer
    from services.lookup import view_subject

    ids = await seed(harness)
    today = dt.date.today()
    assert await view_subject(harness.db, ids["chen"], Viewer(None, "public"), today) is None
    assert await view_subject(harness.db, ids["chen"], Viewer(None, "enterprise", subject_ids=frozenset({ids["company"]})), today) is None
    own = await view_subject(harness.db, ids["chen"], Viewer(None, "public", subject_ids=frozenset({ids["chen"]})), today)
    assert own is not None and own.name == "陈志强"
    staff = await view_subject(harness.db, ids["chen"], Viewer(None, "official"), today)
    assert staff is not None


async def test_individual_business_operator_is_masked_for_the_public_and_labelled_operator(harness: BotHarness) -> None:
    await seed(harness)
    public = await harness.chat("public")
    card = texts(await harness.say(public, SHOP))
    assert "经营者：张**" in card
    assert "张秀英" not in card and "法定代表人" not in card
    official = await harness.chat("official", dept="SCJGJ")
    assert "经营者：张秀英" in texts(await harness.say(official, SHOP))
    # A company's legal representative is registered public information.
    assert "法定代表人：王芳" in texts(await harness.say(public, COMPANY))
