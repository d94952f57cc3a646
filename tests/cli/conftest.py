"""Fixtures of the ``tap-slack-snow-auth`` tests: a private state folder and no setting
from the shell, and small emulators.
"""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import SlackEmulator


@pytest.fixture(autouse=True)
def _clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private state folder, and no secret or tap setting leaking in from the shell."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state-home"))
    for name in list(os.environ):
        if name.startswith(("TAP_SLACK_SNOW_", "SLACK_CLIENT_")):
            monkeypatch.delenv(name)


@pytest.fixture
def emulators() -> t.Iterator[t.Callable[..., SlackEmulator]]:
    factory = EmulatorFactory(seed=3, users=30, access_logs=40, integration_logs=10)
    yield factory.make
    factory.stop_all()


@pytest.fixture
def emu(emulators: t.Callable[..., SlackEmulator]) -> SlackEmulator:
    return emulators(plan="plus")
