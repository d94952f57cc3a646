"""Shared pieces of the benchmarks: an emulator in its own process, tap runs, measurements.

The emulator always runs as ``python -m tap_slack_snow_emulator`` in a separate process, so
the tap's process holds only the tap (its peak RSS is its own) and the two use both cores.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tap_slack_snow_devkit.catalogs import select_all, select_only
from tap_slack_snow_emulator.config import Clock, WorkspaceConfig
from tap_slack_snow_emulator.data import Workspace

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DAY = 86400


@dataclass
class EmulatorProcess:
    """A running ``python -m tap_slack_snow_emulator`` and what it was started with."""

    workspace: WorkspaceConfig
    minute_seconds: float | None
    proc: subprocess.Popen[str]
    config: dict[str, t.Any]
    url: str

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT`` (control API lives under ``/_emulator/``)."""
        return self.url.removesuffix("/api")

    def stats(self) -> dict[str, t.Any]:
        """``/_emulator/stats``: calls and 429s per method, refreshes."""
        return dict(requests.get(self.base + "/_emulator/stats", timeout=30).json())

    def control(self, path: str, body: t.Any = None) -> dict[str, t.Any]:
        """POST to the control API."""
        answer = requests.post(self.base + "/_emulator/" + path, json=body or {}, timeout=30)
        answer.raise_for_status()
        return dict(answer.json())

    def reset_stats(self) -> None:
        """Zero the counters and the rate-limit windows."""
        self.control("reset-stats")

    def local_workspace(self) -> Workspace:
        """The same data, computed in this process (the emulator is deterministic)."""
        return Workspace(self.workspace, Clock(self.workspace.now))

    def stop(self) -> None:
        """SIGTERM and wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(
    workspace: WorkspaceConfig,
    workdir: Path,
    *,
    minute_seconds: float | None = None,
    start_date: str | None = None,
    team_id: bool = True,
    cache_pages: bool = False,
) -> EmulatorProcess:
    """Start the emulator CLI on a free port; the returned config points the tap at it."""
    config_path = workdir / f"emulator-{os.getpid()}-{time.monotonic_ns()}.json"
    command = [
        PYTHON,
        "-m",
        "tap_slack_snow_emulator",
        "--port",
        "0",
        "--seed",
        str(workspace.seed),
        "--users",
        str(workspace.users),
        "--plan",
        workspace.plan,
        "--workspaces",
        str(workspace.workspaces),
        "--access-logs",
        str(workspace.access_logs),
        "--integration-logs",
        str(workspace.integration_logs),
        "--analytics-lag-days",
        str(workspace.analytics_lag_days),
        "--write-config",
        str(config_path),
    ]
    if workspace.enterprise:
        command.append("--enterprise")
    if workspace.now is not None:
        command += ["--now", str(workspace.now)]
    if workspace.analytics_rows_per_day is not None:
        command += ["--analytics-rows-per-day", str(workspace.analytics_rows_per_day)]
    if minute_seconds is not None:
        command += ["--minute-seconds", str(minute_seconds)]
    if start_date is not None:
        command += ["--start-date", start_date]
    if cache_pages:
        command.append("--cache-pages")  # a server that is not the bottleneck
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(
            f"emulator did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
        )
    url = line.strip().rsplit(" ", 1)[-1]
    config = json.loads(config_path.read_text())
    config["token_store_path"] = str(workdir / f"tokens-{time.monotonic_ns()}.json")
    if team_id and workspace.enterprise:
        config["team_id"] = Workspace(workspace, Clock(workspace.now)).team_ids[0]
    return EmulatorProcess(workspace, minute_seconds, proc, config, url)


def catalog_for(*names: str) -> dict[str, t.Any]:
    """A catalog selecting ``names`` (every stream when empty)."""
    return select_only(*names) if names else select_all()


def vm_hwm_kib(pid: int) -> int | None:
    """``VmHWM`` of a running process (its own peak RSS since its exec), in KiB."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None  # exited (a zombie has no memory lines) or no /proc


@dataclass
class TapRun:
    """One tap process: its wall time, peak RSS, exit code and per-stream summary lines."""

    seconds: float
    peak_rss_mib: float
    exit_code: int
    stderr: str
    summaries: dict[str, dict[str, float]] = field(default_factory=dict)
    stdout_path: Path | None = None

    def records(self, stream: str) -> int:
        """Records the tap logged for ``stream``."""
        return int(self.summaries.get(stream, {}).get("records", 0))


def parse_summaries(stderr: str) -> dict[str, dict[str, float]]:
    """The tap's "Stream X done: N records, M requests (...)" lines, by stream."""
    out: dict[str, dict[str, float]] = {}
    for line in stderr.splitlines():
        marker = line.find("Stream ")
        if marker < 0 or " records, " not in line:
            continue
        text = line[marker + 7 :]
        name, _, rest = text.partition(" ")
        if not rest.startswith(("done:", "skipped:")):
            continue
        numbers = rest.split(":", 1)[1]
        parts = [p.strip() for p in numbers.replace("(", ",").replace(")", ",").split(",")]
        values: dict[str, float] = {}
        for part in parts:
            if not part:
                continue
            words = part.split()
            try:
                value = float(words[0])
            except (ValueError, IndexError):
                continue
            key = " ".join(words[1:])
            values[key] = value
        out[name] = {
            "records": values.get("records", 0),
            "requests": values.get("requests", 0),
            "rate_limited": values.get("rate-limited", 0),
            "retried": values.get("retried", 0),
            "wait_s": values.get("s waiting on rate limits", 0),
            "seconds": values.get("s in all", 0),
        }
    return out


def run_tap(
    config: dict[str, t.Any],
    workdir: Path,
    *,
    catalog: dict[str, t.Any] | None = None,
    state: dict[str, t.Any] | None = None,
    keep_stdout: bool = False,
    env: dict[str, str] | None = None,
    python_args: t.Sequence[str] = (),
    module: str = "tap_slack_snow",
    timeout: float = 3600,
) -> TapRun:
    """Run the tap as its own process; stdout to /dev/null (or a file).

    Peak RSS is the tap's own ``VmHWM`` (/proc/PID/status), read every 10 ms while it runs:
    it only grows, so the last reading is the peak up to the last 10 ms (teardown). It is
    not ``wait4``'s ``ru_maxrss``: Popen starts the child with vfork, and at exec Linux
    folds the high-water mark of the mm the child leaves, this process's, into the child's
    ``ru_maxrss``, so that figure is max(this benchmark process's peak so far, the tap's).
    """
    stamp = time.monotonic_ns()
    config_path = workdir / f"config-{stamp}.json"
    config_path.write_text(json.dumps(config))
    command = [PYTHON, *python_args, "-m", module, "--config", str(config_path)]
    if catalog is not None:
        catalog_path = workdir / f"catalog-{stamp}.json"
        catalog_path.write_text(json.dumps(catalog))
        command += ["--catalog", str(catalog_path)]
    if state is not None:
        state_path = workdir / f"state-{stamp}.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    stdout_path = workdir / f"stdout-{stamp}.jsonl" if keep_stdout else None
    stderr_path = workdir / f"stderr-{stamp}.log"
    with (
        open(stdout_path or os.devnull, "wb") as out,
        open(stderr_path, "wb") as err,
    ):
        started = time.perf_counter()
        proc = subprocess.Popen(
            command, stdout=out, stderr=err, cwd=ROOT, env={**os.environ, **(env or {})}
        )
        deadline = started + timeout
        peak_kib = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_kib = max(peak_kib, vm_hwm_kib(proc.pid) or 0)
            if time.perf_counter() > deadline:
                proc.kill()
            time.sleep(0.01)
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = stderr_path.read_text(errors="replace")
    return TapRun(
        seconds=seconds,
        # ru_maxrss (an upper bound, see above) only if the tap exited before one reading
        peak_rss_mib=(peak_kib or usage.ru_maxrss) / 1024,
        exit_code=proc.returncode,
        stderr=stderr,
        summaries=parse_summaries(stderr),
        stdout_path=stdout_path,
    )


def median(values: t.Iterable[float]) -> float:
    """The median."""
    return statistics.median(list(values))


def iso_days_ago(now: float, days: float) -> str:
    """``start_date`` ``days`` before ``now``, at midnight UTC."""
    day = dt.datetime.fromtimestamp(now - days * DAY, tz=dt.timezone.utc)
    return day.strftime("%Y-%m-%dT00:00:00Z")


def workdir() -> Path:
    """A fresh temporary folder for configs, catalogs, token stores and outputs."""
    return Path(tempfile.mkdtemp(prefix="tap-slack-snow-bench-"))


def machine() -> str:
    """One line describing this machine."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, Python {sys.version.split()[0]}"


def compile_bytecode() -> None:
    """Write the bytecode of the plugins' virtualenvs and of the tap's source once.

    Meltano installs plugins with uv, which writes no bytecode, and Python writes it on a
    first import only without PYTHONDONTWRITEBYTECODE (set on this machine, and in many
    container images): else every run compiles the target's imports again (1.4 s of CPU
    here). A user's second run has the bytecode, so the benchmark measures with it.
    """
    for venv in sorted((ROOT / ".meltano").glob("*/*/venv")):
        for site in venv.glob("lib/python*/site-packages"):
            subprocess.run(
                [str(venv / "bin" / "python"), "-m", "compileall", "-q", "-j0", str(site)],
                stdout=subprocess.DEVNULL,
                check=False,
            )
    subprocess.run(
        [PYTHON, "-m", "compileall", "-q", "-j0", str(ROOT / "tap_slack_snow")],
        stdout=subprocess.DEVNULL,
        check=False,
    )


def children_cpu() -> float:
    """CPU seconds (user + system) of every child process reaped so far, with the children
    they reaped: a run's share is the difference around it (the emulator, still running, is
    not counted)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
