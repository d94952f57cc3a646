"""Fixtures of the run tests: the rate-limited Grid org of ``tests/run/grid_org.py``."""

from __future__ import annotations

import pytest

from tap_slack_snow_devkit.emulators import EmulatorFactory
from tap_slack_snow_emulator import SlackEmulator
from tests.run.grid_org import MINUTE, WORKSPACE


@pytest.fixture
def limited(emulator_factory: EmulatorFactory) -> SlackEmulator:
    return emulator_factory(WORKSPACE, minute_seconds=MINUTE)
