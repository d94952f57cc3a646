"""The ``.env`` file: written by ``exchange --write-env``, read by ``check --env-file``."""

from __future__ import annotations

import contextlib
import os
import typing as t
from pathlib import Path

from dotenv import dotenv_values  # a dependency of singer-sdk

from tap_slack_snow.auth import write_private_file
from tap_slack_snow.cli.common import SECRET_ENV_VARS, UserError
from tap_slack_snow.settings import ENV_PREFIX


def _env_value(value: str) -> str:
    """A .env value python-dotenv reads back unchanged."""
    if value and all(c.isalnum() or c in "._-:/+=@" for c in value):
        return value
    if "'" in value or "\n" in value:
        raise UserError("a value for the .env file contains a quote or newline")
    return f"'{value}'"


def upsert_env_file(path: Path, values: dict[str, str], remove: t.Iterable[str] = ()) -> None:
    """Set ``values`` in a .env file (mode 0600), keeping every other line as it was."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    drop = set(remove)
    pending = dict(values)
    out: list[str] = []
    for line in lines:
        stripped = line.strip()
        body = stripped.removeprefix("export ").lstrip()
        key = body.split("=", 1)[0].strip() if "=" in body and not stripped.startswith("#") else ""
        if key in drop:
            continue
        if key in pending:
            out.append(f"{key}={_env_value(pending.pop(key))}")
            continue
        out.append(line)
    out += [f"{key}={_env_value(value)}" for key, value in pending.items()]
    write_private_file(path, "\n".join(out) + "\n")


@contextlib.contextmanager
def environment_from(env_file: Path | None) -> t.Iterator[None]:
    """Expose a .env file's tap variables while the tap reads its settings, then restore.

    A variable the shell already has wins over the file's, as in Meltano (the environment
    comes before .env). The tap reads ``TAP_SLACK_SNOW_*`` from the environment only when
    it is built, so the process environment is put back afterwards.
    """
    saved = dict(os.environ)
    try:
        if env_file is not None:
            values = dotenv_values(env_file)
            os.environ.update(
                {
                    key: value
                    for key, value in values.items()
                    if value is not None
                    and key not in saved
                    and (key.startswith(ENV_PREFIX) or key in SECRET_ENV_VARS)
                }
            )
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
