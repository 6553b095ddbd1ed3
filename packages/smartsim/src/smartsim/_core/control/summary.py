"""The summary table of an experiment's runs (github, plain or simple style)."""

from __future__ import annotations

from collections.abc import Sequence

from smartsim._core.control.job import Job

HEADERS = ("Name", "Entity-Type", "JobID", "RunID", "Time", "Status", "Returncode")


def job_rows(jobs: Sequence[Job]) -> list[tuple[str, ...]]:
    """One row per run of each job."""
    rows = []
    for job in jobs:
        for run in job.runs:
            rows.append(
                (
                    job.name,
                    job.entity_type,
                    run.job_id or run.step_id,
                    str(run.run_id),
                    f"{run.elapsed:.4f}",
                    str(run.status.value),
                    "" if run.returncode is None else str(run.returncode),
                )
            )
    return rows


def format_table(
    rows: Sequence[Sequence[str]], headers: Sequence[str] = HEADERS, style: str = "github"
) -> str:
    """A text table; ``github`` gives a Markdown table, ``plain`` aligned columns."""
    if style not in ("github", "plain", "simple"):
        raise ValueError(f"summary style must be 'github', 'plain' or 'simple', not {style!r}")
    cols = [headers, *rows]
    widths = [max(len(str(r[i])) for r in cols) for i in range(len(headers))]

    def line(cells: Sequence[str], sep: str) -> str:
        text = sep.join(str(c).ljust(w) for c, w in zip(cells, widths))
        return f"| {text} |" if style == "github" else text.rstrip()

    out = [line(headers, " | " if style == "github" else "  ")]
    if style == "github":
        out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    elif style == "simple":
        out.append("  ".join("-" * w for w in widths))
    out += [line(r, " | " if style == "github" else "  ") for r in rows]
    return "\n".join(out)
