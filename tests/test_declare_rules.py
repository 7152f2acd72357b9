"""Pure rules of self-declaration: answers checked as typed, files sniffed, routing, numbering, visibility."""

from __future__ import annotations

import datetime as dt

import pytest

from db.regions import default_region
from nlp import form_answers
from rules import declarations as r

TODAY = dt.date(2026, 11, 27)
LICENCE = r.category("license")
CONTRACT = r.category("contract")


def refs() -> list[r.DepartmentRef]:
    return [r.DepartmentRef(d.code, d.name, d.short_name, d.role, d.division_code) for d in default_region().departments]


def test_dates_are_checked_as_typed() -> None:
    issued = r.field_of(LICENCE, "issued")
    expires = r.field_of(LICENCE, "expires")
    for typed in ("2025-3-1", "2025年3月1日", "20250301", "２０２５－３－１"):
        assert form_answers.validate(LICENCE, issued, typed, TODAY) == "2025-03-01"
    with pytest.raises(r.DeclarationError, match="不是有效日期"):
        form_answers.validate(LICENCE, issued, "2025-02-30", TODAY)
    with pytest.raises(r.DeclarationError, match="不能晚于今天"):
        form_answers.validate(LICENCE, issued, "2026-11-28", TODAY)
    assert form_answers.validate(LICENCE, expires, "2030-01-01", TODAY, {"issued": "2025-03-01"}) == "2030-01-01"
    with pytest.raises(r.DeclarationError, match="不能早于发证日期"):
        form_answers.validate(LICENCE, expires, "2025-02-28", TODAY, {"issued": "2025-03-01"})
    done = r.field_of(CONTRACT, "done")
    with pytest.raises(r.DeclarationError, match="不能早于签订日期"):
        form_answers.validate(CONTRACT, done, "2025-01-01", TODAY, {"issued": "2025-03-01"})
    with pytest.raises(r.DeclarationError, match="不能晚于今天"):  # a completion date is not a promise
        form_answers.validate(CONTRACT, done, "2027-01-01", TODAY, {"issued": "2025-03-01"})


def test_skip_amounts_and_numbers() -> None:
    assert form_answers.validate(LICENCE, r.field_of(LICENCE, "expires"), " 跳过 ", TODAY) is None
    with pytest.raises(r.DeclarationError, match="必填项"):
        form_answers.validate(LICENCE, r.field_of(LICENCE, "name"), "跳过", TODAY)
    amount = r.field_of(CONTRACT, "amount")
    assert form_answers.validate(CONTRACT, amount, "12.5", TODAY) == "12.5"
    assert form_answers.validate(CONTRACT, amount, "1,250,000元", TODAY) == "125"
    assert form_answers.validate(CONTRACT, amount, "３万元", TODAY) == "3"
    for bad in ("十万", "-5", "0", "1e9"):
        with pytest.raises(r.DeclarationError):
            form_answers.validate(CONTRACT, amount, bad, TODAY)
    with pytest.raises(r.DeclarationError, match="应含数字或字母"):
        form_answers.validate(LICENCE, r.field_of(LICENCE, "number"), "无编号", TODAY)
    with pytest.raises(r.DeclarationError, match="过长"):
        form_answers.validate(LICENCE, r.field_of(LICENCE, "name"), "证" * 201, TODAY)


def test_files_must_be_what_they_claim() -> None:
    lim = r.DeclarationSettings(max_file_mb=1, max_files=2)
    assert r.declared_type("证书.PDF", None) == "pdf" and r.declared_type("x.bin", "image/png") == "png"
    assert r.declared_type("setup.exe", "application/octet-stream") is None
    assert r.check_content("pdf", b"%PDF-1.7 ...", lim) == "pdf"
    with pytest.raises(r.DeclarationError, match="格式不符"):
        r.check_content("pdf", b"MZ\x90\x00", lim)
    with pytest.raises(r.DeclarationError, match="仅接受"):
        r.check_content(None, b"%PDF", lim)
    with pytest.raises(r.DeclarationError, match="文件过大"):
        r.check_size(1024 * 1024 + 1, 0, lim)
    with pytest.raises(r.DeclarationError, match="最多上传 2 个"):
        r.check_size(10, 2, lim)


def test_routing_follows_the_issuer_then_the_category_then_the_credit_office() -> None:
    city = default_region().code
    assert r.route(LICENCE, {"issuer": "安康市住房和城乡建设局"}, refs(), city) == "ZJJ"
    assert r.route(LICENCE, {"issuer": "市交通局"}, refs(), city) == "JTJ"
    assert r.route(LICENCE, {"issuer": "中国质量认证中心"}, refs(), city) == "FGW"
    assert r.route(CONTRACT, {}, refs(), city) == "SCJGJ"
    assert r.route(r.category("welfare"), {}, refs(), city) == "MZJ"
    assert r.route(r.category("integrity"), {}, refs(), city) == "FGW"


def test_receipt_and_visibility() -> None:
    assert r.receipt_number("安", 2026, 123) == "安申〔2026〕000123号"
    assert r.visible_to("verified", "public", own=False)
    assert not r.visible_to("pending", "public", own=False) and r.visible_to("pending", "public", own=True)
    assert r.visible_to("pending", "official", own=False) and r.visible_to("revoked", "admin", own=False)
    assert not r.visible_to("draft", "official", own=True) and not r.visible_to("cancelled", "public", own=True)
