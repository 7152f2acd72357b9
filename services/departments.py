"""Departments by code: the one lookup behind every `--dept`, `/duties` and binding code.

An unknown code is refused with the codes the database does hold (and the closest ones first), so
an operator corrects a typo without another tool; an empty table says how the departments are
loaded (`creditbot db upgrade`, like every command that migrates: services/database_setup.py).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Department
from db.session import Database
from services.errors import Refusal


@dataclass(frozen=True)
class DepartmentRow:
    code: str
    name: str
    short_name: str
    division_code: str


async def list_departments(db: Database) -> list[DepartmentRow]:
    """Every department in the database, in the region file's order (the city's first)."""
    async with db.transaction() as s:
        rows = (await s.scalars(select(Department).order_by(Department.id))).all()
        return [DepartmentRow(d.code, d.name, d.short_name or d.name, d.division_code) for d in rows]


def unknown_department_text(code: str, known: list[str]) -> str:
    """Chinese: `code` is not a department; the closest codes, then all of them."""
    if not known:
        return f"找不到部门代码 {code}：数据库中还没有任何部门，请先运行 creditbot db upgrade 载入本地区的部门。"
    close = difflib.get_close_matches(code.strip().upper(), known, n=3, cutoff=0.6)
    hint = f"是否是 {'、'.join(close)}？" if close else ""
    return f"找不到部门代码 {code}。{hint}可用的部门代码：{'、'.join(known)}。"


async def department_by_code(s: AsyncSession, code: str) -> Department:
    """The department `code` (surrounding spaces ignored); raises `Refusal` naming the valid codes."""
    dept = await s.scalar(select(Department).where(Department.code == code.strip()))
    if dept is None:
        known = list((await s.scalars(select(Department.code).order_by(Department.id))).all())
        raise Refusal(unknown_department_text(code, known))
    return dept
