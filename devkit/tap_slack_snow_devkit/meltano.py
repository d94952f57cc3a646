"""Running the project's Meltano pipeline as a user does: ``meltano`` subprocesses.

Shared by the e2e tests and ``scripts/demo``. Meltano lives in its own virtualenv
(``.venv-meltano``, made by ``scripts/test`` / ``scripts/demo``) because its dependencies
(SQLAlchemy, structlog, ...) should not constrain the tap's. Plugins are installed by
``meltano install`` into the repo's ``.meltano/`` from ``meltano.yml``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import typing as t
from pathlib import Path

#: The checkout whose meltano.yml every command runs in: ``$TAP_SLACK_SNOW_CHECKOUT`` (another
#: working tree that shares this dev kit), else the checkout the dev kit was installed from
#: (editable: devkit/tap_slack_snow_devkit/ is two folders below it). Two checkouts must not
#: share one, since Meltano keeps a run's files in the project's ``.meltano/run``.
REPO = Path(
    os.environ.get("TAP_SLACK_SNOW_CHECKOUT") or Path(__file__).resolve().parents[2]
).resolve()
#: Meltano's own virtualenv, made by scripts/test in the checkout the dev kit came from.
MELTANO_VENV = Path(__file__).resolve().parents[2] / ".venv-meltano"

#: Environment variables that would leak a developer's own setup into a run.
_FOREIGN_PREFIXES = ("TAP_SLACK_SNOW_", "TARGET_POSTGRES_", "TARGET_JSONL_", "MELTANO_", "DBT_")


def meltano_executable() -> Path | None:
    """``$MELTANO_BIN``, else ``.venv-meltano/bin/meltano``; None when neither exists."""
    configured = os.environ.get("MELTANO_BIN")
    candidate = Path(configured) if configured else MELTANO_VENV / "bin" / "meltano"
    return candidate if candidate.is_file() else None


def tap_env(config: t.Mapping[str, t.Any]) -> dict[str, str]:
    """A tap config as Meltano environment variables (``TAP_SLACK_SNOW_<SETTING>``)."""
    return {
        f"TAP_SLACK_SNOW_{key.upper()}": value if isinstance(value, str) else json.dumps(value)
        for key, value in config.items()
        if value is not None
    }


class Meltano:
    """``meltano`` in the repo's project, with an isolated environment.

    ``env`` is added to a copy of ``os.environ`` from which every ``TAP_SLACK_SNOW_*``,
    ``TARGET_*`` and ``MELTANO_*`` variable was removed, so the caller decides everything.
    ``env_file`` replaces the project's ``.env`` (Meltano's ``--env-file``); the tests pass
    an empty file so a developer's real credentials in ``.env`` never reach them.
    """

    def __init__(
        self,
        executable: Path,
        *,
        env: t.Mapping[str, str] | None = None,
        env_file: Path | None = None,
        project_root: Path = REPO,
    ) -> None:
        """Configure; nothing runs yet."""
        self.executable = executable
        self.project_root = project_root
        self.env_file = env_file
        base = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_PREFIXES)}
        base.pop("VIRTUAL_ENV", None)
        base["MELTANO_PROJECT_ROOT"] = str(project_root)
        base["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        base["NO_COLOR"] = "1"
        base.update(env or {})
        self.env = base

    def command(self, *args: str) -> list[str]:
        """The argv for ``meltano [--env-file F] ARGS``."""
        argv = [str(self.executable)]
        if self.env_file is not None:
            argv += ["--env-file", str(self.env_file)]
        return argv + list(args)

    def popen(self, *args: str, **kwargs: t.Any) -> subprocess.Popen[str]:
        """Start ``meltano ARGS`` in its own process group (see :func:`stop_group`)."""
        env = {**self.env, **(kwargs.pop("env", None) or {})}
        return subprocess.Popen(
            self.command(*args),
            cwd=self.project_root,
            env=env,
            text=True,
            start_new_session=True,
            **kwargs,
        )

    def run(
        self,
        *args: str,
        env: t.Mapping[str, str] | None = None,
        check: bool = True,
        timeout: float = 900,
    ) -> subprocess.CompletedProcess[str]:
        """Run one meltano command; with ``check`` a failure raises with its output.

        ``stdout`` holds what the command prints (a catalog, a state) and ``stderr``
        Meltano's and the plugins' logs. If the caller is interrupted (Ctrl-C, a timeout),
        Meltano and the tap and target it started are stopped too.
        """
        process = self.popen(
            *args, env=dict(env or {}), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:
            stop_group(process)
            raise
        result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        if check and result.returncode != 0:
            tail = "\n".join((stdout + stderr).splitlines()[-60:])
            raise MeltanoError(f"meltano {' '.join(args)} exited with {result.returncode}:\n{tail}")
        return result


def stop_group(process: subprocess.Popen[str], grace: float = 10.0) -> None:
    """Stop a process started by :meth:`Meltano.popen` and everything it started.

    SIGTERM to the process group (meltano, the tap, the target), SIGKILL after ``grace``.
    """
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


class MeltanoError(RuntimeError):
    """A meltano command failed."""
