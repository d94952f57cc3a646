"""tap-slack-snow benchmarks: requests, rate-limited wall time, CPU, memory, scale on paper.

One command, from the repository root: ``.venv/bin/python -m benchmarks.run [--quick]
[--only SECTIONS]`` (a module, so that ``benchmarks`` and its sections import as a package;
the tap, the emulator and the dev kit come from the virtualenv ``scripts/test`` makes). Prints
markdown tables and writes them to ``benchmarks/results.md`` (``--out`` to change).
``--quick`` is a smoke run (under two minutes) on small workspaces; its figures prove the
harness works, not the goals. ``--only`` runs some sections, by number or name (below).

Every tap run is its own process (``python -m tap_slack_snow``, stdout to /dev/null) against
the emulator in another process (``python -m tap_slack_snow_emulator``), so wall times
include process start-up and the peak RSS (``VmHWM``, see ``harness.run_tap``) is the tap's alone.

The sections, one module each in ``benchmarks/sections/``:

1. ``requests`` (request_counts.py): requests per stream against the API's minimum;
2. ``rate_limited`` (rate_limited.py): wall time under Slack's tiers, concurrent and sequential;
   2b. ``grid`` (grid.py): a Grid org's workspaces side by side under per-(method, workspace)
   buckets, against one worker per stream and a sequential run;
3. ``cpu`` (cpu.py): the users stream against the floor pipeline, and a profile;
4. ``memory`` (memory.py): peak RSS, small against large;
5. ``analytics`` (analytics.py): member_analytics rows per second, RECORD and BATCH messages;
5b. ``loading`` (loading.py): member_analytics and users into PostgreSQL as meltano.yml ships
   the loader (tap | target-postgres, ``meltano run``), against the tap alone and PostgreSQL's
   own ``COPY FROM STDIN`` (needs ``meltano install`` in this checkout);
6. ``scale`` (scale.py): sync times on Slack's real limits, from what 1 and 4 (and 5, 5b)
   measured, loading into PostgreSQL included when 5b ran.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import sys
import time
from pathlib import Path

from benchmarks.harness import ROOT, machine
from benchmarks.report import Report
from benchmarks.sections.analytics import bench_analytics
from benchmarks.sections.cpu import bench_cpu
from benchmarks.sections.grid import bench_grid
from benchmarks.sections.loading import bench_loading
from benchmarks.sections.memory import bench_memory
from benchmarks.sections.rate_limited import bench_rate_limited
from benchmarks.sections.request_counts import bench_requests
from benchmarks.sections.scale import bench_scale

#: ``--only`` takes a section's number or its name.
SECTIONS = {
    "requests": "1",
    "rate_limited": "2",
    "grid": "2b",
    "cpu": "3",
    "memory": "4",
    "analytics": "5",
    "loading": "5b",
    "scale": "6",
}


def chosen_sections(parser: argparse.ArgumentParser, value: str) -> set[str]:
    """The numbers of the sections ``--only`` names (empty: every section)."""
    only = set()
    for part in filter(None, (part.strip() for part in value.split(","))):
        number = SECTIONS.get(part, part)
        if number not in SECTIONS.values():
            parser.error(
                f"--only: no section {part!r} (sections: {', '.join(SECTIONS.values())} or "
                f"{', '.join(SECTIONS)})"
            )
        only.add(number)
    return only


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark (or those ``--only`` names) and write the results."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="short smoke run (< 2 min)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks" / "results.md", help="markdown output"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated sections to run, by number or name (1 requests, 2 rate_limited, "
        "2b grid, 3 cpu, 4 memory, 5 analytics, 5b loading, 6 scale; 6 needs 1 and 4, and uses "
        "5 when it runs)",
    )
    args = parser.parse_args(argv)
    only = chosen_sections(parser, args.only)
    # The tap as pip installs it: its modules byte-compiled once. A checkout run with
    # PYTHONDONTWRITEBYTECODE would compile every one of them again in each timed tap process.
    compileall.compile_dir(ROOT / "tap_slack_snow", quiet=1)
    started = time.perf_counter()
    report = Report(quick=args.quick)
    stamp = dt.datetime.now(tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = ".venv/bin/python -m benchmarks.run" + (" --quick" if args.quick else "")
    header = (
        "# tap-slack-snow benchmark results\n\n"
        f"- date: {stamp}\n- machine: {machine()} (shared with other developers' test runs)\n"
        f"- command: `{command}`\n"
        "- tap and emulator each in their own process; figures of noisy runs are medians of 3\n"
        "- the tap's modules byte-compiled before the runs, as pip installs them\n"
    )
    print(header, flush=True)
    first = memory = None
    if not only or "1" in only or "6" in only:
        first = bench_requests(report, args.quick)
    if not only or "2" in only:
        bench_rate_limited(report, args.quick)
    if not only or "2b" in only:
        bench_grid(report, args.quick)
    if not only or "3" in only:
        bench_cpu(report, args.quick)
    if not only or "4" in only or "6" in only:
        memory = bench_memory(report, args.quick)
    analytics = None
    if not only or "5" in only:
        analytics = bench_analytics(report, args.quick)
    loading = None
    if not only or "5b" in only:
        loading = bench_loading(report, args.quick) or None
    if first is not None and memory is not None:
        bench_scale(report, first, memory, analytics, loading)
    footer = f"\nTotal benchmark time: {time.perf_counter() - started:.0f} s.\n"
    print(footer)
    args.out.write_text(header + "\n" + "\n".join(report.sections) + footer, encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
