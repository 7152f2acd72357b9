"""Abbreviations of the hand-written labelled set as whole conversations, typed by an official into
the console on SQLite and PostgreSQL (the whole set goes through every door in
tests/test_doors_agree.py)."""

from __future__ import annotations

import datetime as dt
import re

from bench.handwritten import load
from db.models import CreditRecord, Subject
from db.session import Database
from rules.masking import id_match_key
from tests.conftest import BotHarness

ID_LIKE = re.compile(r"(?<![0-9A-Z])\d{15}(?!\d)|(?<![0-9A-Z])\d{17}[\dX](?![0-9A-Z])")


async def seed(db: Database) -> dict[str, str]:
    """The hand-written subjects; returns key → name. Registration numbers live where the archive
    keeps them: in an imported record's legacy code column."""
    subjects, _questions = load()
    async with db.transaction() as s:
        for hs in subjects:
            subject = Subject(kind=hs.kind, name=hs.name, division_code=hs.division, uscc=hs.uscc)
            if hs.id_number:
                subject.id_hash = id_match_key(hs.id_number, "creditbot-demo-key")
                subject.id_masked = hs.id_number[:6] + "********" + hs.id_number[-4:]
            for alias, kind in hs.aliases:
                from db.models import SubjectAlias

                subject.aliases.append(SubjectAlias(alias=alias, kind=kind))
            s.add(subject)
            if hs.reg:
                s.add(
                    CreditRecord(
                        subject=subject,
                        category="行政许可",
                        source_key="11610900MB0000001X",
                        source_name="安康市市场监督管理局",
                        doc_number="安市监许〔2014〕7号",
                        decision_date=dt.date(2014, 5, 6),
                        status="active",
                        fields={"工商注册号": hs.reg},
                    )
                )
    return {hs.key: hs.name for hs in subjects}


async def test_abbreviations_through_the_console(harness: BotHarness) -> None:
    """疾控, 邮储, 人社局, 建行 typed by an official: the card of the subject written in full, a matter
    after the abbreviation kept as the matter, a bare abbreviation with two subjects a choice."""
    names = await seed(harness.db)
    await harness.refresh()
    chat = await harness.chat("official", dept="SCJGJ")
    for text, key in [("汉滨疾控", "cdc_hb"), ("邮储银行安康分行", "postal_city"), ("建行安康分行", "ccb")]:
        out = await harness.say(chat, text)
        assert (out[0].text or "").startswith(f"【{names[key]}】"), (text, out[0].text)
    out = await harness.say(chat, "旬阳人社局 政府采购")
    assert (out[0].text or "").startswith(f"【{names['hrss_xy']}】")
    assert "逢办必查：" in (out[-1].text or "") and "政府采购" in (out[-1].text or "")
    out = await harness.say(chat, "疾控")
    offered = [label for o in out for row in o.buttons for label in row]
    assert not (out[0].text or "").startswith("【")
    assert any(label.startswith(names["cdc_hb"]) for label in offered) and any(label.startswith(names["cdc_sq"]) for label in offered)
