"""What ``check`` and ``restore`` share with the tap instead of building it: the config read
from files and ``TAP_SLACK_SNOW_*`` variables (config.load_config), its problem lines
(settings.config_problems, the tap's and the CLI's), the catalog's selection
(inputs.selected_stream_ids), and the signal handling; the CLI never imports the tap.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import typing as t
from contextlib import nullcontext
from pathlib import Path

import pytest
from click.testing import CliRunner
from singer_sdk.exceptions import ConfigValidationError

from tap_slack_snow.cli import main
from tap_slack_snow.cli.check import selected_streams
from tap_slack_snow.cli.common import signals_wait_for_saves
from tap_slack_snow.config import (
    checked_schema,
    config_problems,
    environment_config,
    load_config,
    read_config_files,
    schema_problems,
    validated_settings,
)
from tap_slack_snow.config_schema import CREDENTIAL_RULE_FAILURES, SECRET_SETTINGS
from tap_slack_snow.inputs import InputError, selected_stream_ids
from tap_slack_snow.interrupts import signals_deferred
from tap_slack_snow.settings import Settings
from tap_slack_snow.tap import TapSlackSnow

SECRET = "secret-4711-not-to-be-printed"
TOKEN = "xoxp-4711-not-to-be-printed"
OAUTH = {"client_id": "123.456", "client_secret": SECRET, "refresh_token": "xoxe-1-4711-secret"}


@pytest.fixture(autouse=True)
def _no_tap_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("TAP_SLACK_SNOW_", "SLACK_CLIENT_")):
            monkeypatch.delenv(name)


def write(tmp_path: Path, name: str, value: t.Any) -> Path:
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return path


# --- config files and environment variables ---------------------------------------------------


def test_variables_win_over_files_with_numbers_booleans_and_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write(tmp_path, "a.json", {"access_token": TOKEN, "page_size": 10, "team_id": "T0"})
    second = write(tmp_path, "b.json", {"page_size": 20, "concurrent_fetch": True})
    assert load_config([first, second], parse_env=False)["page_size"] == 20  # later file wins
    for name, value in {
        "PAGE_SIZE": "30",
        "RETRY_INITIAL_WAIT": "0.5",
        "MAX_RATE_LIMIT_WAIT": "120",
        "CONCURRENT_FETCH": "false",
        "EMIT_ACTIVATE_VERSION_MESSAGES": "yes",
        "TEAM_IDS": '["T1", "T2"]',
    }.items():
        monkeypatch.setenv(f"TAP_SLACK_SNOW_{name}", value)
    config = load_config([first, second])
    assert config == {
        "access_token": TOKEN,
        "team_id": "T0",
        "page_size": 30,
        "retry_initial_wait": 0.5,
        "max_rate_limit_wait": 120.0,
        "concurrent_fetch": False,
        "emit_activate_version_messages": True,
        "team_ids": ["T1", "T2"],
    }
    assert type(config["page_size"]) is int
    # The tap reads the same: its environment and, from there, its settings.
    assert TapSlackSnow._env_var_config == environment_config()
    tap = TapSlackSnow(
        config=read_config_files([first, second]), parse_env_config=True, validate_config=False
    )
    assert Settings.from_config(tap.config) == Settings.from_config(config)


def test_a_list_variable_may_be_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAP_SLACK_SNOW_TEAM_IDS", "T1,T2")
    assert environment_config()["team_ids"] == ["T1", "T2"]


@pytest.mark.parametrize(
    ("setting", "value", "line"),
    [
        (
            "PAGE_SIZE",
            "lots",
            "TAP_SLACK_SNOW_PAGE_SIZE='lots' is not a whole number: set page_size to a "
            "number in the environment, the config file or Meltano",
        ),
        (
            "RETRY_INITIAL_WAIT",
            "soon",
            "TAP_SLACK_SNOW_RETRY_INITIAL_WAIT='soon' is not a number: set retry_initial_wait "
            "to a number in the environment, the config file or Meltano",
        ),
    ],
)
def test_a_variable_that_is_not_a_number_is_one_line(
    monkeypatch: pytest.MonkeyPatch, setting: str, value: str, line: str
) -> None:
    monkeypatch.setenv(f"TAP_SLACK_SNOW_{setting}", value)
    with pytest.raises(ConfigValidationError) as raised:
        load_config()
    assert raised.value.errors == [line]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "is not valid JSON (Expecting property name"),
        ("", "is empty: it must hold a JSON object"),
        (
            "[1, 2]",
            'must hold a JSON object ({"client_id": ..., "refresh_token": ...}), not a list',
        ),
    ],
)
def test_a_bad_config_file_is_the_taps_line(tmp_path: Path, content: str, expected: str) -> None:
    path = write(tmp_path, "config.json", content)
    with pytest.raises(InputError) as raised:
        read_config_files([path])
    assert str(raised.value).startswith(f"config file {path} ")
    assert expected in str(raised.value)


# --- the problem lines, the tap's and the CLI's ------------------------------------------------

PROBLEMS: dict[str, tuple[dict[str, t.Any], str]] = {
    "schema minimum": (
        {"access_token": TOKEN, "page_size": 0},
        "0 is less than the minimum of 1 in config['page_size']",
    ),
    "schema choice": (
        {"access_token": TOKEN, "edition": "grid"},
        "'grid' is not one of ['auto', 'enterprise', 'standard'] in config['edition']",
    ),
    "no credentials": ({}, "No credentials: set client_id, client_secret and refresh_token"),
    "incomplete oauth": (
        {"client_id": "123.456", "client_secret": SECRET},
        "Incomplete OAuth settings: missing refresh_token",
    ),
    "both credentials": (
        {**OAUTH, "access_token": TOKEN},
        "Set either access_token, or client_id + client_secret + refresh_token, not both",
    ),
    "store key": (
        {**OAUTH, "token_store_key": "short-secret"},
        "token_store_key is too short: use at least 16 random characters",
    ),
    "store url": (
        {**OAUTH, "token_store_url": "mysql://user:pw-4711-secret@db/tokens"},
        "token_store_url must be a PostgreSQL URL",
    ),
    "store url and path": (
        {
            **OAUTH,
            "token_store_url": "postgresql://user:pw-4711-secret@db/tokens",
            "token_store_path": "/tmp/tokens.json",
        },
        "Set token_store_url (a database) or token_store_path (a file), not both",
    ),
    "workspaces": (
        {"access_token": TOKEN, "team_id": "T1", "team_ids": ["T2"]},
        "Set team_id or team_ids, not both",
    ),
    "api_url": ({"access_token": TOKEN, "api_url": "ftp://slack.com/api"}, "api_url 'ftp://"),
    "start_date": (
        {"access_token": TOKEN, "start_date": "yesterday"},
        "start_date 'yesterday' is not an ISO 8601 date-time",
    ),
}


@pytest.mark.parametrize("case", list(PROBLEMS))
def test_each_rule_is_one_line_without_secrets_and_the_tap_says_the_same(case: str) -> None:
    config, expected = PROBLEMS[case]
    problems = config_problems(copy.deepcopy(config))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems
    assert not [rule for rule in CREDENTIAL_RULE_FAILURES if rule in problems[0]]
    secrets = [config[name] for name in SECRET_SETTINGS if name in config] + ["4711"]
    assert not [secret for secret in secrets if secret in problems[0]]
    with pytest.raises(ConfigValidationError) as shared:
        validated_settings(copy.deepcopy(config))
    with pytest.raises(ConfigValidationError) as tap:
        TapSlackSnow(config=copy.deepcopy(config))
    assert shared.value.errors == tap.value.errors == problems


def test_check_prints_the_shared_lines(tmp_path: Path) -> None:
    config = {"access_token": TOKEN, "page_size": 0, "start_date": "yesterday"}
    problems = config_problems(dict(config))
    assert len(problems) == 2
    path = write(tmp_path, "config.json", config)
    result = CliRunner().invoke(main, ["check", "--config", str(path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: invalid config: {'; '.join(problems)}"]


def test_a_config_without_credentials_has_no_schema_problem_and_a_valid_one_none() -> None:
    # --discover (and restore's warning) look at the schema's problems only.
    assert schema_problems({}) == []
    config = {"access_token": TOKEN}
    assert config_problems(config) == []
    assert config["page_size"] == 1000  # the schema's defaults are filled in, as the SDK does
    assert validated_settings({"access_token": TOKEN}).access_token == TOKEN


def test_the_schema_is_the_taps_with_the_sdks_built_in_settings() -> None:
    schema = copy.deepcopy(TapSlackSnow.config_jsonschema)
    TapSlackSnow.append_builtin_config(schema)
    assert checked_schema() == schema
    assert {"stream_maps", "flattening_enabled"} <= set(schema["properties"])


def test_the_client_secret_is_asked_for_only_in_a_rotating_setup_without_it() -> None:
    assert Settings.from_config({"client_id": "1.2", "refresh_token": "r"}).lacks_client_secret
    for config in (
        {},
        {"access_token": TOKEN},
        {"client_id": "1.2", "access_token": TOKEN},
        {"client_id": "1.2", "client_secret": SECRET},
    ):
        assert not Settings.from_config(config).lacks_client_secret, config


# --- catalog selection -----------------------------------------------------------------------


def discovered() -> dict[str, t.Any]:
    return t.cast("dict[str, t.Any]", TapSlackSnow(config={}, validate_config=False).catalog_dict)


def root_metadata(entry: dict[str, t.Any]) -> dict[str, t.Any]:
    return t.cast(
        "dict[str, t.Any]", next(m for m in entry["metadata"] if m["breadcrumb"] == [])["metadata"]
    )


def catalog_where(change: t.Callable[[str, dict[str, t.Any]], dict[str, t.Any] | None]) -> dict:
    """The discovered catalog with each entry changed (None drops it)."""
    catalog = discovered()
    entries = [change(entry["tap_stream_id"], entry) for entry in catalog["streams"]]
    return {"streams": [entry for entry in entries if entry is not None]}


def select(names: set[str]) -> t.Callable[[str, dict[str, t.Any]], dict[str, t.Any]]:
    def change(name: str, entry: dict[str, t.Any]) -> dict[str, t.Any]:
        root_metadata(entry)["selected"] = name in names
        return entry

    return change


def no_metadata(name: str, entry: dict[str, t.Any]) -> dict[str, t.Any]:
    return {**entry, "metadata": []} if name == "team" else select({"users"})(name, entry)


def only_users(name: str, entry: dict[str, t.Any]) -> dict[str, t.Any] | None:
    return entry if name == "users" else None


def by_default(name: str, entry: dict[str, t.Any]) -> dict[str, t.Any]:
    root = root_metadata(entry)
    root.pop("selected", None)
    root["selected-by-default"] = name in {"billing", "access_logs"}
    return entry


def inclusion(name: str, entry: dict[str, t.Any]) -> dict[str, t.Any]:
    root = root_metadata(entry)
    root["inclusion"] = {"users": "automatic", "team": "unsupported"}.get(name, "available")
    root["selected"] = name == "team"
    return entry


CATALOGS = {
    "some selected": (
        select({"users", "team", "member_analytics"}),
        ["member_analytics", "team", "users"],
    ),
    "none selected": (select(set()), []),
    "an entry without metadata": (no_metadata, ["team", "users"]),
    "streams left out": (only_users, ["users"]),
    "selected-by-default": (by_default, ["access_logs", "billing"]),
    "inclusion": (inclusion, ["users"]),
}


@pytest.mark.parametrize("case", list(CATALOGS))
def test_catalog_selection_is_the_taps(tmp_path: Path, case: str) -> None:
    change, expected = CATALOGS[case]
    catalog = catalog_where(change)
    tap = TapSlackSnow(config={}, catalog=copy.deepcopy(catalog), validate_config=False)
    # the run takes them in its own order (streams/order.py); check lists them by name
    chosen = sorted(stream.name for stream in tap.selected_slack_streams())
    assert chosen == expected
    names = sorted(entry["tap_stream_id"] for entry in discovered()["streams"])
    assert selected_stream_ids(copy.deepcopy(catalog), names) == chosen
    path = write(tmp_path, "catalog.json", catalog)
    assert [stream.name for stream in selected_streams(str(path))] == chosen


def test_without_a_catalog_check_takes_every_stream_by_name() -> None:
    """By name, as the run's scope report lists them (the run writes them in its order)."""
    tap = TapSlackSnow(config={}, validate_config=False)
    assert [s.name for s in selected_streams(None)] == sorted(
        s.name for s in tap.selected_slack_streams()
    )


# --- signals and imports ---------------------------------------------------------------------


def signalled(signum: int, after: list[str], *, during_a_save: bool) -> None:
    """Raise ``signum`` under the CLI's handlers; ``after`` records what still ran."""
    with signals_wait_for_saves(), signals_deferred("saving") if during_a_save else nullcontext():
        signal.raise_signal(signum)
        after.append("the rest of the save")


def test_a_signal_during_a_token_save_waits_for_it_then_exits_130() -> None:
    before = signal.getsignal(signal.SIGINT)
    after: list[str] = []
    with pytest.raises(SystemExit) as stopped:
        signalled(signal.SIGINT, after, during_a_save=True)
    assert after == ["the rest of the save"]
    assert stopped.value.code == 130
    assert signal.getsignal(signal.SIGINT) is before  # the handlers are put back


def test_a_signal_outside_a_save_exits_143_at_once() -> None:
    after: list[str] = []
    with pytest.raises(SystemExit) as stopped:
        signalled(signal.SIGTERM, after, during_a_save=False)
    assert after == []
    assert stopped.value.code == 143


def test_the_cli_never_imports_the_tap() -> None:
    code = (
        "import sys, tap_slack_snow.cli.check, tap_slack_snow.cli.restore; "
        "sys.exit('tap_slack_snow.tap' in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
