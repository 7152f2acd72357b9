"""The persons behind a subject, as an official's card shows them (DOMAIN.md, "Persons behind
organisations"): links between persons and organisations are personal data — officials only, ID
numbers masked, every related subject shown written to the audit trail (services.lookup adds one
`view_related` row per related subject to the card's own).

What is shown, and only where a measure reaches the person (rules.measures.reaching):
- on an organisation's card: its 法定代表人 / 主要负责人 when that person is on a list in their own
  name whose measures concern holding a post (登记注册, 人员录用/任职), or when the organisation's
  own lists bind them; and then the other subjects that person heads;
- on a person's card: the organisations they represent (关联主体) whose lists bind them in that role.
A check of a person for 登记注册 or 人员录用/任职 also gets those measures (services.checks).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.catalogue import current_catalogue
from db.models import CreditRecord, Subject, SubjectPerson
from rules import visibility
from rules.catalogue import REACHES
from rules.categories import ABNORMAL_LIST, BLACKLIST
from rules.matters import OTHER, POST_MATTERS
from rules.measures import ListingFact, Measure, answer, reaching
from rules.roles import NATURAL_PERSON, Viewer


@dataclass(frozen=True)
class RelatedSubject:
    """A subject linked to the card's subject through a person, with why it matters."""

    subject_id: int
    name: str
    code: str  # USCC, or a person's masked ID number
    role: str  # legal_rep / principal: the person's role in the organisation of the link
    relation: str  # Chinese, as the card prints it
    listings: tuple[ListingFact, ...]
    measures: tuple[Measure, ...]

    @property
    def role_label(self) -> str:
        return REACHES[self.role]


_LINKS = select(SubjectPerson.organisation_id, SubjectPerson.person_id, SubjectPerson.role)
_SUBJECTS = select(Subject.id, Subject.kind, Subject.name, Subject.uscc, Subject.id_masked)
_LISTS = select(
    CreditRecord.subject_id, CreditRecord.category, CreditRecord.status, CreditRecord.publication_end,
    CreditRecord.severity, CreditRecord.decision_date, CreditRecord.rule_edition, CreditRecord.source_name,
    CreditRecord.title, CreditRecord.fields, CreditRecord.list_type,
).where(CreditRecord.category.in_([BLACKLIST, ABNORMAL_LIST]))


async def related_subjects(
    conn: AsyncConnection, cards: dict[int, Any], viewer: Viewer, today: dt.date
) -> dict[int, tuple[RelatedSubject, ...]]:
    """For staff viewers: per card subject id, the related subjects to show (see module doc). Up to
    four set-based statements; none of this reaches anyone but staff. `cards`: id → SubjectCard."""
    from services.lookup import listing_fact

    if not viewer.is_staff or not cards:
        return {}
    ids = sorted(cards)
    links = list(await conn.execute(_LINKS.where(or_(SubjectPerson.organisation_id.in_(ids), SubjectPerson.person_id.in_(ids)))))
    persons_of_orgs = {r.person_id for r in links if r.organisation_id in cards}
    if persons_of_orgs:  # the other organisations those persons head
        links += list(await conn.execute(_LINKS.where(SubjectPerson.person_id.in_(sorted(persons_of_orgs)))))
    links = list({(r.organisation_id, r.person_id, r.role): r for r in links}.values())
    others = sorted({x for r in links for x in (r.organisation_id, r.person_id)} - set(ids))
    subjects = {r.id: r for r in await conn.execute(_SUBJECTS.where(Subject.id.in_(others)))} if others else {}
    lists: dict[int, list[ListingFact]] = defaultdict(list)
    if others:
        for r in await conn.execute(_LISTS.where(CreditRecord.subject_id.in_(others))):
            if visibility.counts_for_measures(r, today):
                lists[r.subject_id].append(listing_fact(r))
    catalogue = current_catalogue()

    def facts(sid: int) -> tuple[ListingFact, ...]:
        return tuple(cards[sid].listings) if sid in cards else tuple(lists.get(sid, ()))

    def shown(sid: int) -> tuple[str, str]:
        if sid in cards:
            return cards[sid].name, cards[sid].code
        s = subjects[sid]
        return s.name, (s.id_masked or "（未登记）") if s.kind == NATURAL_PERSON else (s.uscc or "（未登记）")

    out: dict[int, list[RelatedSubject]] = defaultdict(list)
    for sid in ids:
        if cards[sid].kind == NATURAL_PERSON:
            for link in (r for r in links if r.person_id == sid and r.organisation_id in subjects):
                org = link.organisation_id
                binding = reaching(catalogue, facts(org), link.role)
                if binding:
                    name, code = shown(org)
                    out[sid].append(RelatedSubject(org, name, code, link.role, f"担任该主体的{REACHES[link.role]}", facts(org), binding))
            continue
        own_binding = {role: reaching(catalogue, facts(sid), role) for role in ("legal_rep", "principal")}
        for link in (r for r in links if r.organisation_id == sid and r.person_id in subjects):
            person, role = link.person_id, link.role
            name, code = shown(person)
            posts = tuple(m for matter in sorted(POST_MATTERS) for m in answer(catalogue, NATURAL_PERSON, facts(person), matter).measures)
            posts = tuple({m.key: m for m in posts}.values())
            if posts:
                out[sid].append(RelatedSubject(person, name, code, role, f"{REACHES[role]}本人在名单中", facts(person), posts))
            if own_binding[role]:
                if not posts:
                    out[sid].append(RelatedSubject(person, name, code, role, f"{REACHES[role]}（本主体名单的措施及于此人）", (), own_binding[role]))
                for other in (r for r in links if r.person_id == person and r.organisation_id != sid and r.organisation_id in subjects):
                    oname, ocode = shown(other.organisation_id)
                    out[sid].append(RelatedSubject(
                        other.organisation_id, oname, ocode, other.role,
                        f"{REACHES[role]}{name}同时担任该主体的{REACHES[other.role]}", facts(other.organisation_id), own_binding[role],
                    ))  # fmt: skip
    return {sid: tuple(items) for sid, items in out.items()}


def via_organisations(card: Any, matter: str) -> tuple[Measure, ...]:
    """For a person's check: the measures that bind the person through the organisations they
    represent, for `matter` (登记注册 / 人员录用/任职 above all: may this person hold this post)."""
    if card.kind != NATURAL_PERSON:
        return ()
    catalogue = current_catalogue()
    out: dict[str, Measure] = {}
    for r in card.related:
        for m in reaching(catalogue, r.listings, r.role, matter if matter != OTHER else OTHER):
            reason = f"该人员担任{r.name}的{r.role_label}；{m.reason.replace('该主体', r.name, 1)}"
            out.setdefault(m.key, replace(m, reason=reason))
    return tuple(out.values())
