"""One decision of who reads a person's name masked, used by the card and the candidate list alike."""

from __future__ import annotations

import pytest

from rules.roles import ROLES, STAFF_ROLES, Viewer, may_find_by_name, may_find_every_subject, sees_name_masked


@pytest.mark.parametrize(
    ("viewer", "kind", "subject_id", "masked"),
    [
        (Viewer(1, "public"), "自然人", 7, True),
        (Viewer(1, "enterprise"), "自然人", 7, True),
        (Viewer(1, "enterprise", subject_ids=frozenset({7})), "自然人", 7, False),  # a person's own file
        (Viewer(1, "official", department_id=3), "自然人", 7, False),
        (Viewer(1, "collector", department_id=3), "自然人", 7, False),
        (Viewer(1, "public"), "法人", 7, False),  # a company's name is public
        (Viewer(1, "public", mask_person_names=False), "自然人", 7, False),  # switched off in settings
    ],
)
def test_who_reads_a_person_name_masked(viewer: Viewer, kind: str, subject_id: int, masked: bool) -> None:
    assert sees_name_masked(viewer, kind, subject_id) is masked


@pytest.mark.parametrize("role", ROLES)
def test_a_viewer_said_to_find_every_subject_finds_every_kind(role: str) -> None:
    """The resolver skips the per-candidate check for such a viewer, so the shortcut must never
    admit more than the rule itself would (a person found by name by the public)."""
    viewer = Viewer(1, role, department_id=3)
    every_kind = all(may_find_by_name(viewer, kind, 7) for kind in ("自然人", "法人", "个体工商户", "非法人组织"))
    if may_find_every_subject(viewer):
        assert every_kind
    assert may_find_every_subject(viewer) is (role in STAFF_ROLES)
    assert every_kind is (role in STAFF_ROLES)
