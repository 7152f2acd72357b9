"""`creditbot evaluate` as an operator meets it: figures as one JSON line, one Chinese line for a
mistake, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import run


def test_evaluate_full_run_and_mistakes(tmp_path: Path) -> None:
    done = run(["evaluate"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip()) == {"subjects": 0, "evaluated": 0, "grade_changes": 0, "new_warnings": 0}
    bad_date = run(["evaluate", "--today", "2026-13-01"], tmp_path)
    assert bad_date.returncode == 2 and "日期格式应为 YYYY-MM-DD" in bad_date.stderr
    bad_code = run(["evaluate", "--subject", "91610902MA70HD0019"], tmp_path)
    assert bad_code.returncode == 2 and "统一社会信用代码有误" in bad_code.stderr
    dry = run(["evaluate", "--digest-dry-run", "--today", "2026-11-30"], tmp_path)  # a preview may look at any day
    assert dry.returncode == 0 and dry.stdout == ""
    # Stored grades are today's: another day would overwrite them with a grade of that day.
    elsewhen = run(["evaluate", "--today", "2100-01-01"], tmp_path)
    assert elsewhen.returncode == 2 and "只能是今天" in elsewhen.stderr
    for result in (done, bad_date, bad_code, dry, elsewhen):
        assert "Traceback" not in result.stderr
