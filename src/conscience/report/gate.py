"""The verdict as an exit code, so a CI job can stop a model that fails its constitution (``conscience run --gate``).

0: every criterion of every variant passes; 3: at least one fails; 4: none fails but at least one cannot be
judged (at chance, or pending a clinician review). "demo target" rows are goals of the demo, not pass criteria,
and do not count, as in the verdict's own overall status.
"""

from __future__ import annotations

from collections.abc import Iterable

PASS, FAIL, NOT_JUDGED = 0, 3, 4


def gate_code(verdict_rows: Iterable[dict]) -> int:
    """The exit code for the ``verdict`` rows of ``report.json`` (each with ``cells`` of ``criterion``/``status``)."""
    statuses = {cell["status"] for row in verdict_rows for cell in row["cells"]
                if not cell["criterion"].startswith("demo target")}
    if "fail" in statuses:
        return FAIL
    return PASS if statuses <= {"pass"} and statuses else NOT_JUDGED
