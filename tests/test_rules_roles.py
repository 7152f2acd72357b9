"""One decision of who reads a person's name masked, used by the card and the candidate list alike."""

from __future__ import annotations

import pytest

from rules.roles import Viewer, sees_name_masked


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
