"""Whose rows these are: an import run for a department may only file that department's records.

Why: a collector's upload, an API key's push and `creditbot import --dept` all run for one department.
Without this check a row carrying another department's 数据来源单位统一社会信用代码 and an existing 文书号
"updated" that department's record (department, title and severity rewritten), and a row naming another
department as 处罚机关 / 数据来源单位 was published under its name. The platform admin's bulk load (no
department) is not restricted.

Rule (checked per row, before any write): every unit code in the row (数据来源单位 and the deciding
authority's 统一社会信用代码) must be the importing department's own code; the 数据来源单位 named (else the
authority, when the file has no 数据来源单位) must be the department's name, compared canonically; no unit
in the row may be another registered department. The writer separately refuses to update a record that
belongs to another department (or to none). Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from db.importers.rows import DeptInfo, RowInvalid
from rules.canonical import canonical_key


@dataclass(frozen=True)
class Ownership:
    """The importing department and the canonical names and codes of every other department."""

    dept: DeptInfo
    others: frozenset[str] = field(default_factory=frozenset)

    def owns_code(self, code: str) -> bool:
        if self.dept.uscc:
            return canonical_key(code) == canonical_key(self.dept.uscc)
        return False

    def owns_name(self, name: str) -> bool:
        return canonical_key(name) == canonical_key(self.dept.name)

    def check_code(self, column: str, code: str | None) -> None:
        """Raises RowInvalid when `code` (a unit's USCC from the row) is not the department's."""
        if not code or self.owns_code(code):
            return
        if not self.dept.uscc:
            raise RowInvalid(
                column,
                f"统一社会信用代码“{code}”无法核对：本部门（{self.dept.name}）未登记统一社会信用代码，"
                "请留空该列或请管理员登记部门代码",
            )
        raise RowInvalid(
            column,
            f"统一社会信用代码“{code}”不是本部门（{self.dept.name}，{self.dept.uscc}）的代码："
            "只能报送本部门的信息",
        )

    def check_name(self, column: str, name: str | None, *, must_be_own: bool) -> None:
        """Raises RowInvalid when `name` is another registered department, or (when `must_be_own`)
        anything but the department's own name."""
        if not name or self.owns_name(name):
            return
        if must_be_own or canonical_key(name) in self.others:
            raise RowInvalid(column, f"“{name}”不是本部门（{self.dept.name}）：只能报送本部门的信息")


def other_department_keys(rows: list[tuple[int, str, str | None]], own_id: int) -> frozenset[str]:
    """Canonical names and codes of every department but `own_id`; rows are (id, name, uscc)."""
    keys: set[str] = set()
    for dept_id, name, uscc in rows:
        if dept_id == own_id:
            continue
        keys.add(canonical_key(name))
        if uscc:
            keys.add(canonical_key(uscc))
    return frozenset(keys)
