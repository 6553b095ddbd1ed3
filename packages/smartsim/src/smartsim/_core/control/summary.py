"""The summary table of an experiment's runs (github, plain or simple style)."""

from __future__ import annotations

from collections.abc import Sequence

from smartsim._core.control.job import Job

HEADERS = ("Name", "Entity-Type", "JobID", "RunID", "Time", "Status", "Returncode")


Cell = str | int | float | None


def job_rows(jobs: Sequence[Job]) -> list[tuple[Cell, ...]]:
    """One row per run of each job (times as float seconds, no return code as ``None``)."""
    rows: list[tuple[Cell, ...]] = []
    for job in jobs:
        for run in job.runs:
            rows.append(
                (
                    job.name,
                    job.entity_type,
                    run.job_id or run.step_id,
                    run.run_id,
                    run.elapsed,
                    str(run.status.value),
                    run.returncode,
                )
            )
    return rows


# The table is laid out as SmartSim 0.4 printed it with ``tabulate(values, headers,
# showindex=True, tablefmt=format, missingval="None")`` (tabulate 0.8.9): a leading unnamed index
# column; numbers (and strings that parse as numbers) right-aligned, floats in ``g`` format with
# their decimal points aligned; text left-aligned; every column at least its header plus two wide.
_STYLES = {"github": (" | ", "| ", " |", True), "plain": ("  ", "", "", False)}
_STYLES["simple"] = _STYLES["plain"]


def _kind(value: Cell) -> int:
    """0 int, 1 float, 2 text (tabulate's numparse), -1 missing."""
    if value is None:
        return -1
    if isinstance(value, bool):
        return 2
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        return 1
    try:
        int(value)
        return 0
    except ValueError:
        pass
    try:
        float(value)
        return 1
    except ValueError:
        return 2


def _afterpoint(text: str) -> int:
    try:
        float(text)
    except ValueError:
        return -1
    if text.isdigit() or (text[:1] in "+-" and text[1:].isdigit()):
        return -1
    pos = text.rfind(".")
    if pos < 0:
        pos = text.lower().rfind("e")
    return len(text) - pos - 1 if pos >= 0 else -1


def format_table(
    rows: Sequence[Sequence[Cell]],
    headers: Sequence[str] = HEADERS,
    style: str = "github",
    showindex: bool = True,
) -> str:
    """A text table as SmartSim 0.4's ``summary()`` printed it (``github``, ``plain``, ``simple``)."""
    if style not in _STYLES:
        raise ValueError(f"summary style must be 'github', 'plain' or 'simple', not {style!r}")
    headers = list(headers)
    table = [list(r) for r in rows]
    if showindex and table:  # tabulate adds no index column to an empty table
        headers = ["", *headers]
        table = [[i, *r] for i, r in enumerate(table)]
    columns: list[list[str]] = []
    numeric: list[bool] = []
    for c, header in enumerate(headers):
        values = [r[c] for r in table]
        kind = max((_kind(v) for v in values), default=2)
        kind = 2 if kind < 0 else kind
        cells = [
            "None" if v is None else format(float(v), "g") if kind == 1 else str(v) for v in values
        ]
        width = len(header) + 2
        if kind < 2:
            points = [_afterpoint(x) for x in cells]
            most = max(points, default=-1)
            cells = [
                x + " " * (most - p if p >= 0 else most + 1 if most >= 0 else 0)
                for x, p in zip(cells, points)
            ]
            width = max([width, *map(len, cells)])
            cells = [x.rjust(width) for x in cells]
        else:
            width = max([width, *map(len, cells)])
            cells = [x.ljust(width) for x in cells]
        columns.append([(header.rjust if kind < 2 else header.ljust)(width), *cells])
        numeric.append(kind < 2)
    sep, left, right, github = _STYLES[style]
    lines = [
        (left + sep.join(col[i] for col in columns) + right).rstrip() for i in range(len(table) + 1)
    ]
    if github:
        lines.insert(1, "|" + "|".join("-" * (len(col[0]) + 2) for col in columns) + "|")
    elif style == "simple":
        lines.insert(1, sep.join("-" * len(col[0]) for col in columns))
    return "\n".join(lines)
