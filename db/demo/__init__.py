"""The demo archive: a deterministic synthetic city (subjects, aliases, records) for `creditbot demo`,
benchmarks and tests. Generation is pure (the region context and showcase in db.demo.generate, codes in
db.demo.codes, subjects in db.demo.subjects, records in db.demo.records); loading is db.demo.load."""

from __future__ import annotations

from db.demo.generate import DEFAULT_SEED, DEMO_AS_OF, DemoRecord, DemoSubject, showcase
from db.demo.load import DemoAlreadyPresent, DemoSummary, build_demo, demo_present
from db.demo.records import iter_records, records_for
from db.demo.subjects import iter_subjects, subject_at

# The default region's showcase subjects (keys 0..len-1 of every demo archive), and by handle.
SHOWCASE: tuple[DemoSubject, ...] = showcase()
SHOWCASE_BY_TAG: dict[str, DemoSubject] = {s.tag: s for s in SHOWCASE if s.tag}

__all__ = [
    "DEFAULT_SEED",
    "DEMO_AS_OF",
    "SHOWCASE",
    "SHOWCASE_BY_TAG",
    "DemoAlreadyPresent",
    "DemoRecord",
    "DemoSubject",
    "DemoSummary",
    "build_demo",
    "demo_present",
    "iter_records",
    "iter_subjects",
    "records_for",
    "showcase",
    "subject_at",
]
