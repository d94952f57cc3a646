"""Slack emulators (in this process, over real HTTP on 127.0.0.1) started for one test and
stopped at its end: the tests' ``emulator_factory`` fixture, and any tool that needs several."""

from __future__ import annotations

import typing as t

from tap_slack_snow_emulator import SlackEmulator, WorkspaceConfig


class EmulatorFactory:
    """Starts emulators for one test and stops them all at its end (the one factory)."""

    def __init__(self, **defaults: t.Any) -> None:
        """``defaults`` are WorkspaceConfig settings for ``make(**settings)``."""
        self.defaults = defaults
        self.started: list[SlackEmulator] = []

    def __call__(self, workspace: WorkspaceConfig | None = None, **kwargs: t.Any) -> SlackEmulator:
        """Start an emulator of ``workspace`` (default: 250 members, seed 1)."""
        emu = SlackEmulator(workspace or WorkspaceConfig(seed=1, users=250), **kwargs)
        emu.start()
        self.started.append(emu)
        return emu

    def make(self, **settings: t.Any) -> SlackEmulator:
        """Start an emulator of ``WorkspaceConfig(**defaults, **settings)``."""
        return self(WorkspaceConfig(**{**self.defaults, **settings}))

    def stop_all(self) -> None:
        """Stop every emulator this factory started."""
        for emu in self.started:
            emu.stop()
