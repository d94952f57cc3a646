"""The Meltano Hub definition (hub/tap-slack-snow.yml) as a Hub user gets it.

An empty Meltano project (``meltano init``) adds the tap with ``meltano add --from-ref``
from the definition as shipped, with Meltano Hub unreachable, the way docs/install.md says to
until the first release: ``--no-install``, ``pip_url`` pointed at this checkout in the
project's meltano.yml, ``meltano install tap-slack-snow``; then ``meltano config test`` and
the definition's ``auth-check`` command run against the Slack emulator.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
import yaml

from tap_slack_snow_devkit.meltano import REPO, Meltano, tap_env
from tap_slack_snow_emulator import SlackEmulator, WorkspaceConfig
from tests.e2e.conftest import SCOPES, START_DATE

pytestmark = pytest.mark.e2e

#: A closed port: a Meltano Hub request fails the test.
NO_HUB = "http://127.0.0.1:9"


def test_hub_definition_installs_from_ref_and_passes_config_test(
    meltano_bin: Path, tmp_path: Path
) -> None:
    ref = REPO / "hub" / "tap-slack-snow.yml"
    definition = yaml.safe_load(ref.read_text())
    assert definition["pip_url"] == "tap-slack-snow"  # PyPI, after the first release
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    base_env = {"MELTANO_HUB_URL": NO_HUB}

    Meltano(meltano_bin, env=base_env, env_file=env_file, project_root=tmp_path).run(
        "init", "--no_usage_stats", "project"
    )
    project = tmp_path / "project"
    meltano = Meltano(meltano_bin, env=base_env, env_file=env_file, project_root=project)
    meltano.run("add", "tap-slack-snow", "--from-ref", str(ref), "--no-install", timeout=900)
    # Until the first release: pip_url at the clone (docs/install.md), then install.
    project_file = project / "meltano.yml"
    text = project_file.read_text()
    assert "pip_url: tap-slack-snow\n" in text
    project_file.write_text(text.replace("pip_url: tap-slack-snow\n", f"pip_url: {REPO}\n"))
    meltano.run("install", "tap-slack-snow", timeout=900)

    added = yaml.safe_load(project_file.read_text())
    (extractor,) = added["plugins"]["extractors"]
    assert set(added["plugins"]) == {"extractors"}
    assert extractor["name"] == "tap-slack-snow"
    assert extractor["variant"] == definition["variant"]
    assert extractor["pip_url"] == str(REPO)
    assert extractor["settings_group_validation"] == definition["settings_group_validation"]
    assert "test" in extractor["capabilities"]
    assert set(extractor["commands"]) == set(definition["commands"])
    assert [s["name"] for s in extractor["settings"]] == [s["name"] for s in definition["settings"]]

    with SlackEmulator(WorkspaceConfig(seed=3, users=80, plan="plus")) as emu:
        settings: dict[str, t.Any] = {
            "api_url": emu.url,
            "scim_url": emu.scim_url,
            "client_id": emu.client_id,
            "client_secret": emu.client_secret,
            "refresh_token": emu.issue_refresh_token(scopes=SCOPES),
            "token_store_path": str(tmp_path / "token-store" / "tokens.json"),
            "start_date": START_DATE,
        }
        env = tap_env(settings)

        tested = meltano.run("config", "test", "tap-slack-snow", env=env)
        assert "Plugin configuration is valid" in tested.stdout, tested.stderr[-2000:]
        assert emu.refreshes == 1

        # The set-up CLI through the definition's command, with the same settings; it reuses
        # the token that config test rotated and stored.
        checked = meltano.run("invoke", "tap-slack-snow:auth-check", env=env)
        table = checked.stdout
        assert "users:read" in table
        for stream in ("users", "billable_info", "access_logs", "integration_logs"):
            assert any(
                line.startswith(stream) and " yes " in line for line in table.splitlines()
            ), table
        assert emu.refreshes == 1
        assert settings["client_secret"] not in table + checked.stderr
