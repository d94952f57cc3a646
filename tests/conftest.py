"""Shared fixtures, for every folder of tests/: the Slack emulator over real HTTP, a private
state home, no secrets left registered. The helpers the tests call are in tests/_support.py
and in the dev kit (tap_slack_snow_devkit: emulators, catalogs, PostgreSQL, Meltano)."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from tap_slack_snow.redact import SecretRedactor
from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import SlackEmulator, WorkspaceConfig


@pytest.fixture
def emulator_factory() -> t.Iterator[EmulatorFactory]:
    factory = EmulatorFactory()
    yield factory
    factory.stop_all()


@pytest.fixture
def emulator(emulator_factory: EmulatorFactory) -> SlackEmulator:
    """A Business+ (plus) standard workspace with 250 members."""
    return emulator_factory(WorkspaceConfig(seed=1, users=250, plan="plus"))


@pytest.fixture(autouse=True)
def _isolated_state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Default token stores go to the test's folder, never the real home."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state-home"))


@pytest.fixture(autouse=True)
def _forget_secrets() -> t.Iterator[None]:
    yield
    SecretRedactor._secrets.clear()
