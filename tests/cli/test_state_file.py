"""The OAuth state file ``authorize-url`` writes and ``exchange`` reads
(``tap_slack_snow.cli.oauth_state``), read defensively: an edited or damaged file is one
line and set aside, a state file behind a link is the file it names, and a state file that
cannot be rewritten after Slack answered never costs the tokens.

Slack is the emulator over real HTTP; the files are real.
"""

from __future__ import annotations

import json
import os
import subprocess
import typing as t
from pathlib import Path

import pytest

from tap_slack_snow_emulator import SlackEmulator
from tests.cli.cli_support import (
    REDIRECT,
    authorize,
    cli,
    exchange,
    load_chain,
    one_line_error,
    state_home,
)


def damage_entry(field: str, value: t.Any) -> t.Callable[[str], str]:
    def edit(text: str) -> str:
        document = json.loads(text)
        document["states"][0][field] = value
        return json.dumps(document)

    return edit


DAMAGES: dict[str, t.Callable[[str], str]] = {
    "created_at a string": damage_entry("created_at", "2024-05-01T10:00:00Z"),
    "created_at null": damage_entry("created_at", None),
    "user_scopes null": damage_entry("user_scopes", None),
    "user_scopes not a list": damage_entry("user_scopes", "admin,users:read"),
    "client_id a number": damage_entry("client_id", 12345),
    "states not a list": lambda text: json.dumps({"version": 1, "states": {"a": 1}}),
    "an entry not an object": lambda text: json.dumps({"version": 1, "states": [7]}),
    "not JSON": lambda text: text[: len(text) // 2],
    "binary": lambda text: "\udcff\x00",
}


def landed(emu: SlackEmulator, params: dict[str, str]) -> str:
    code = emu.issue_auth_code(scopes=params["user_scope"].split(","), redirect_uri=REDIRECT)
    return f"{REDIRECT}/?code={code}&state={params['state']}"


def set_aside(state_file: Path) -> list[Path]:
    return sorted(state_file.parent.glob(state_file.name + ".damaged-*"))


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_state_file_is_one_line_set_aside_and_authorize_url_goes_on(
    emu: SlackEmulator, damage: str
) -> None:
    params = authorize(emu)
    state_file = state_home() / "oauth-states.json"
    edited = DAMAGES[damage](state_file.read_text())
    state_file.write_bytes(edited.encode("utf-8", "surrogateescape"))

    # exchange: one line, the file set aside, Slack never asked (the code stays unused)
    line = one_line_error(exchange(emu, "--redirect-response", landed(emu, params)))
    assert f"the OAuth state file {state_file} is damaged" in line
    (aside,) = set_aside(state_file)
    assert str(aside) in line
    assert "run authorize-url again" in line
    assert aside.read_bytes() == edited.encode("utf-8", "surrogateescape")
    assert emu.calls["oauth.v2.access"] == 0

    # the next authorize-url and exchange work, with nothing deleted by hand
    again = authorize(emu)
    result = exchange(emu, "--redirect-response", landed(emu, again))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert set_aside(state_file) == [aside]


def test_authorize_url_sets_a_damaged_file_aside_with_a_warning(emu: SlackEmulator) -> None:
    authorize(emu)
    state_file = state_home() / "oauth-states.json"
    state_file.write_text(DAMAGES["created_at null"](state_file.read_text()))
    result = cli("authorize-url", "--edition", "standard", "--client-id", emu.client_id)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 1
    assert "damaged" in warnings[0] and "set aside" in warnings[0]
    assert len(set_aside(state_file)) == 1
    assert len(json.loads(state_file.read_text())["states"]) == 1


def test_a_state_file_behind_a_link_is_the_file_it_names(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    target = tmp_path / "volume" / "states.json"
    target.parent.mkdir()
    link = tmp_path / "states.json"
    link.symlink_to(target)
    option = ["--state-file", str(link)]
    dangling = one_line_error(
        cli("authorize-url", "--edition", "standard", "--client-id", emu.client_id, *option)
    )
    assert f"--state-file {link} is a symbolic link to {target}" in dangling
    target.touch()
    params = authorize(emu, *option)
    assert link.is_symlink() and json.loads(target.read_text())["states"]
    result = exchange(emu, "--redirect-response", landed(emu, params), *option)
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and json.loads(target.read_text())["states"] == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("states")] == ["states.json"]


def test_a_state_file_that_cannot_be_rewritten_after_slack_answered_keeps_the_tokens(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    folder = tmp_path / "states"
    folder.mkdir()
    option = ["--state-file", str(folder / "states.json")]
    params = authorize(emu, *option)
    store = tmp_path / "store" / "tokens.json"
    done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not available here: {done.stderr.decode().strip()}")
    try:
        result = exchange(
            emu,
            "--redirect-response",
            landed(emu, params),
            "--token-store-path",
            str(store),
            "--show-secrets",
            *option,
        )
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert any(str(folder / "states.json") in line for line in warnings), result.stderr
    (shown,) = (
        line.split(":", 1)[1].strip()
        for line in result.stdout.splitlines()
        if line.strip().startswith("refresh token:")
    )
    assert load_chain(emu, shown, store) is not None
    assert os.listdir(folder) == ["states.json"]
