"""Who is asking: roles, the viewer a use case decides for, and what a viewer may read of a name.

Every channel (chat, console, CLI, PDF, API) builds one `Viewer` and hands it to the use cases, so a
role's rights are written here once. Roles (DOMAIN.md, "Who uses the bot"): officials check and apply
measures; collectors report their department's records; county admins manage accounts and duties;
businesses (`enterprise`, bound to their own subjects) and the public read published records.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("public", "enterprise", "official", "collector", "admin")
ROLE_LABELS = {
    "public": "公众",
    "enterprise": "企业",
    "official": "办事人员",
    "collector": "信息采集员",
    "admin": "系统管理员",
}
# Platform staff see what officials see: they check and correct the data (rules/visibility.py).
STAFF_ROLES = frozenset({"official", "collector", "admin"})
PUBLIC_ROLES = frozenset({"public", "enterprise"})
# Roles that belong to a department and act for it.
DEPARTMENT_ROLES = STAFF_ROLES

NATURAL_PERSON = "自然人"


@dataclass(frozen=True)
class Viewer:
    """The caller as the use cases see it.

    `subject_ids` are the subjects bound to the account (an enterprise's own companies); the two
    masking switches come from settings (`privacy.mask_person_names`, `privacy.mask_addresses`)."""

    account_id: int | None
    role: str
    department_id: int | None = None
    subject_ids: frozenset[int] = frozenset()
    mask_person_names: bool = True
    mask_addresses: bool = True

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def owns(self, subject_id: int) -> bool:
        return subject_id in self.subject_ids


def sees_name_masked(viewer: Viewer, subject_kind: str, subject_id: int) -> bool:
    """Whether a natural person's name is shown as 张** to this viewer.

    DOMAIN.md ("Desensitisation"): a person's name keeps only the surname outside the platform;
    staff work inside it, and a person reading their own file knows their own name."""
    return (
        subject_kind == NATURAL_PERSON
        and viewer.mask_person_names
        and not (viewer.is_staff or viewer.owns(subject_id))
    )


INDIVIDUAL_BUSINESS = "个体工商户"


def may_find_by_name(viewer: Viewer, subject_kind: str, subject_id: int) -> bool:
    """Whether a name search may offer or show this subject to this viewer.

    DOMAIN.md ("Desensitisation"): a natural person's file is not a public directory. Outside the
    platform nobody may look a person up by name, partial name or pinyin: the public and enterprise
    accounts get "not found", the same answer as for a name nobody bears; a person's own bound
    account still finds its own file. Staff find persons (masked only where the card says so)."""
    return subject_kind != NATURAL_PERSON or viewer.is_staff or viewer.owns(subject_id)


def may_find_every_subject(viewer: Viewer) -> bool:
    """Whether `may_find_by_name` admits every subject for this viewer (staff), so a search need
    not ask it subject by subject."""
    return viewer.is_staff


def sees_operator_masked(viewer: Viewer, subject_kind: str, subject_id: int) -> bool:
    """Whether the card's legal representative / operator is shown as 张**.

    A 个体工商户's operator (经营者) is a natural person running the business in their own name, so
    the person-name switch (`privacy.mask_person_names`) covers it like a person's own name; a
    company's legal representative is registered public information and stays as it is."""
    return (
        subject_kind == INDIVIDUAL_BUSINESS
        and viewer.mask_person_names
        and not (viewer.is_staff or viewer.owns(subject_id))
    )


def legal_rep_label(subject_kind: str) -> str:
    """经营者 for a 个体工商户 (its registration names an operator), 法定代表人 otherwise."""
    return "经营者" if subject_kind == INDIVIDUAL_BUSINESS else "法定代表人"
