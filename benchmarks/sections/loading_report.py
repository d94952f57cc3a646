"""Section 5b's report: the workloads' measures, the goals of issue 22, the tables.

:mod:`benchmarks.sections.loading` runs the loads and notes every time, CPU second, memory
peak and row count in a :class:`Workload`; this module turns them into the section's text and
its figures (``results.md``'s ``loading`` figures, read by section 6).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from benchmarks.harness import median
from benchmarks.report import Report, table

if t.TYPE_CHECKING:
    from pathlib import Path

#: The goals of issue 22.
GOAL_PIPELINE = 9_000  # rows/s, member_analytics RECORD, tap | target-postgres
GOAL_MELTANO = 6_000  # rows/s, the same through meltano run
GOAL_BATCH = 15_000  # rows/s, member_analytics with batch_config, tap | target-postgres
GOAL_USERS = 5.0  # users end to end / the tap alone

#: The schema the target loads into (meltano.yml's load_schema).
SCHEMA = "tap_slack_snow"
TAP = "tap alone (stdout to /dev/null)"
TARGET_ALONE = "target-postgres alone, reading the tap's output from a file"
PIPE = "tap | target-postgres, as shipped"
MELTANO = "meltano run, as shipped"
DEFAULTS = "tap | target-postgres, target's defaults"
APPEND = "COPY FROM STDIN, append"
MERGE = "COPY FROM STDIN, merge"


@dataclass
class Workload:
    """One stream's load: its rows, the tap settings and the paths measured."""

    title: str
    stream: str
    rows: int
    key: tuple[str, ...]
    tap_settings: dict[str, t.Any] = field(default_factory=dict)
    reference: bool = False
    batch_root: Path | None = None
    times: dict[str, list[float]] = field(default_factory=dict)
    #: CPU seconds of the path's processes (user + system), and of the target alone.
    cpu: dict[str, list[float]] = field(default_factory=dict)
    target_cpu: list[float] = field(default_factory=list)
    target_rss: list[float] = field(default_factory=list)
    loaded: dict[str, set[int]] = field(default_factory=dict)
    batch_bytes: list[int] = field(default_factory=list)
    #: Dead row versions per loaded row after the shipped pipeline (the merge's updates).
    dead_per_row: list[float] = field(default_factory=list)
    export: Path | None = None
    #: The tap's output, recorded once for the target-alone path.
    replay: Path | None = None

    def paths(self) -> list[str]:
        defaults = [DEFAULTS] if self.reference else []
        return [TAP, TARGET_ALONE, PIPE, MELTANO, *defaults, APPEND, MERGE]

    def note(
        self, path: str, seconds: float, loaded: int | None = None, cpu: float | None = None
    ) -> None:
        self.times.setdefault(path, []).append(seconds)
        if loaded is not None:
            self.loaded.setdefault(path, set()).add(loaded)
        if cpu is not None:
            self.cpu.setdefault(path, []).append(cpu)

    @property
    def label(self) -> str:
        """The stream, and how its rows travel when not as RECORD messages."""
        return self.stream + (" with batch_config" if self.batch_root else "")

    def rate(self, path: str) -> float:
        return self.rows / median(self.times[path])


def workload_table(work: Workload) -> str:
    """One workload's paths: runs, median, rows/s, against the tap alone, memory, rows."""
    tap = median(work.times[TAP])
    rows = []
    for path in work.paths():
        seconds = work.times[path]
        loaded = work.loaded.get(path)
        exact = "" if loaded is None else ("exact" if loaded == {work.rows} else f"WRONG {loaded}")
        cpu = f"{median(work.cpu[path]):.1f}" if path in work.cpu else ""
        if path == PIPE:
            cpu += f" (target {median(work.target_cpu):.1f})"
        rss = f"{median(work.target_rss):,.0f}" if path == PIPE else ""
        rows.append(
            [
                path,
                " / ".join(f"{s:.1f}" for s in seconds),
                f"**{median(seconds):.1f}**",
                f"{work.rows / median(seconds):,.0f}",
                f"{median(seconds) / tap:.1f}x",
                cpu,
                rss,
                exact,
            ]
        )
    return table(
        [
            "path",
            "runs (s)",
            "median s",
            "rows/s",
            "/ tap alone",
            "CPU s",
            "target peak RSS MiB",
            "rows",
        ],
        rows,
    )


def report_loading(
    report: Report,
    title: str,
    groups: list[list[Workload]],
    users: Workload,
    *,
    quick: bool,
    target: Path,
) -> dict[str, float]:
    """Section 5b's goals, its tables and its figures (``target``: the target-postgres run)."""
    record, batch = groups[0]
    users_meltano = median(users.times[MELTANO]) / median(users.times[TAP])
    users_pipe = median(users.times[PIPE]) / median(users.times[TAP])
    figures = {
        "analytics_pipeline_rows_s": record.rate(PIPE),
        "analytics_meltano_rows_s": record.rate(MELTANO),
        "analytics_batch_pipeline_rows_s": batch.rate(PIPE),
        "analytics_batch_meltano_rows_s": batch.rate(MELTANO),
        "users_pipeline_rows_s": users.rate(PIPE),
        "users_meltano_vs_tap": users_meltano,
        "users_pipeline_vs_tap": users_pipe,
    }

    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    goals = [
        [
            f"member_analytics, {record.rows:,} rows: tap | target-postgres "
            f"≥ {GOAL_PIPELINE:,} rows/s",
            f"{record.rate(PIPE):,.0f} rows/s (target-postgres alone: "
            f"{record.rate(TARGET_ALONE):,.0f}; target's defaults: {record.rate(DEFAULTS):,.0f})",
            met(record.rate(PIPE) >= GOAL_PIPELINE),
        ],
        [
            f"the same, whole `meltano run` ≥ {GOAL_MELTANO:,} rows/s",
            f"{record.rate(MELTANO):,.0f} rows/s",
            met(record.rate(MELTANO) >= GOAL_MELTANO),
        ],
        [
            f"with `batch_config`: tap | target-postgres ≥ {GOAL_BATCH:,} rows/s",
            f"{batch.rate(PIPE):,.0f} rows/s (whole `meltano run`: {batch.rate(MELTANO):,.0f}; "
            f"target-postgres alone: {batch.rate(TARGET_ALONE):,.0f})",
            met(batch.rate(PIPE) >= GOAL_BATCH),
        ],
        [
            f"users, {users.rows:,} members, end to end ≤ {GOAL_USERS:.0f}x the tap alone",
            f"`meltano run` {users_meltano:.1f}x, tap | target-postgres {users_pipe:.1f}x "
            f"(target's defaults {median(users.times[DEFAULTS]) / median(users.times[TAP]):.1f}x)",
            met(users_meltano <= GOAL_USERS),
        ],
    ]
    ceiling = ", ".join(
        f"{work.label} ({work.rows:,} rows) {work.rows / median(work.target_cpu):,.0f} rows/s"
        for work in [*groups[0], users]
    )
    alone = ", ".join(
        f"{work.label} "
        f"{work.rate(TARGET_ALONE):,.0f} rows/s (tap | target-postgres: "
        f"{work.rate(PIPE) / work.rate(TARGET_ALONE):.0%} of it)"
        for work in [*groups[0], users]
    )
    for work in [*groups[0], users]:
        mode = "batch" if work.batch_root else "record"
        figures[f"{work.stream}_{mode}_target_alone_rows_s"] = work.rate(TARGET_ALONE)
        figures[f"{work.stream}_{'batch' if work.batch_root else 'record'}_target_cpu"] = median(
            work.target_cpu
        )
    for works in groups[1:]:
        for work in works:
            figures[f"{work.stream}_{work.rows}_{'batch' if work.batch_root else 'record'}"] = (
                work.rate(PIPE)
            )
    sections = [
        "Three runs of each path, interleaved, each load into a fresh database of one embedded "
        "PostgreSQL on this machine (Unix socket); the target is the project's target-postgres "
        "(`.meltano/`, " + target_version(target) + ") with the config Meltano builds from "
        "meltano.yml (`load_method: upsert`, `use_copy: true`, `validate_records: false`, "
        "`add_record_metadata: true`); the tap reads the emulator (member_analytics: the "
        "day's file cached; users: the page cache). rows/s = rows ÷ the path's median wall "
        "time. COPY FROM STDIN is PostgreSQL alone loading the same rows (exported from the "
        "loaded table) into an empty copy of the table with its primary key. The plugins' "
        "bytecode is compiled first (`compile_bytecode`: this machine sets "
        "PYTHONDONTWRITEBYTECODE, and Meltano's uv writes none).\n\n"
        + table(["goal", "measured", ""], goals)
        + "\n\nCPU s: user + system seconds of the path's processes (tap alone: the tap; "
        "tap | target-postgres: both, the target's own in brackets; meltano run: Meltano, the "
        "tap and the target), PostgreSQL's not included. Other jobs on this shared machine "
        "stretch the wall times much more than the CPU seconds. The target works on one core "
        "while the tap runs on the other, so even on an idle machine the pipeline cannot load "
        f"faster than rows ÷ the target's CPU seconds: {ceiling}. target-postgres alone, "
        "reading a file of the tap's output with no tap running, is the loader's own pace "
        "on this machine, the most a pipeline with any tap can reach (a pipeline measured "
        f"above it is this machine's noise): {alone}."
    ]
    for works in [*groups, [users]]:
        for work in works:
            text = f"**{work.title}**\n\n" + workload_table(work)
            if work.dead_per_row:
                text += (
                    "\n\nDead row versions left by the shipped pipeline's merge: "
                    f"{median(work.dead_per_row):.2f} per loaded row (PostgreSQL's statistics)."
                )
            if work.batch_root is not None and work.batch_bytes:
                text += (
                    f"\n\nBatch files of the day: {median(work.batch_bytes) / 2**20:,.0f} MiB in "
                    "all (gzip JSON Lines, files of the SDK's default batch_size, 10,000 rows), "
                    "left on disk by the target (deleted here after each run)."
                )
            sections.append(text)
    if quick:
        sections.append("(`--quick`: small workloads, one run each; not the goals' sizes.)")
    report.add(title, "\n\n".join(sections))
    report.figures["loading"] = figures
    return figures


def target_version(target: Path) -> str:
    """``meltanolabs-target-postgres X, singer-sdk Y`` of the project's target."""
    site = target.parent.parent / "lib"
    found = {}
    for name in ("meltanolabs_target_postgres", "singer_sdk"):
        for info in site.glob(f"python*/site-packages/{name}-*.dist-info"):
            found[name] = info.name.removeprefix(name + "-").removesuffix(".dist-info")
    return (
        f"meltanolabs-target-postgres {found.get('meltanolabs_target_postgres', '?')}, "
        f"singer-sdk {found.get('singer_sdk', '?')}"
    )
