"""The Meltano Hub definition (hub/tap-slack-snow.yml) passes the checks Meltano Hub's own CI
runs on every definition, with copies of the Hub's files (tests/meltano_hub/README.md says
where they come from): its JSON Schema, its yamllint configuration, its name and maintainers
checks. And a definition rebuilt from ``--about`` the way the Hub's tooling (hub-utils)
builds one keeps the settings groups and differs only where a person must correct it.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from yamllint import linter
from yamllint.config import YamlLintConfig

REPO = Path(__file__).resolve().parents[1]
HUB_FILE = REPO / "hub" / "tap-slack-snow.yml"
VENDORED = Path(__file__).resolve().parent / "meltano_hub"


def definition() -> dict[str, t.Any]:
    return t.cast("dict[str, t.Any]", yaml.safe_load(HUB_FILE.read_text(encoding="utf-8")))


def schema_errors(plugin: dict[str, t.Any]) -> list[str]:
    """What the Hub's plugin_schema_validate finds: Draft 7, every schema found by its $id."""
    resources = []
    for path in sorted((VENDORED / "schemas").glob("*/*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema, DRAFT7)))
    extractors = json.loads(
        (VENDORED / "schemas" / "plugin_definitions" / "extractors.schema.json").read_text()
    )
    validator = Draft7Validator(extractors, registry=Registry().with_resources(resources))
    return [error.message for error in validator.iter_errors(plugin)]


def lint_problems(text: str) -> list[str]:
    """yamllint with the Hub's configuration (as its "Check YAML format" workflow runs it)."""
    config = YamlLintConfig(file=str(VENDORED / "yamllint.yaml"))
    return [f"{p.line}: {p.desc} ({p.rule})" for p in linter.run(text, config)]


def test_the_definition_passes_the_hubs_json_schema() -> None:
    assert schema_errors(definition()) == []


def test_the_schema_check_can_fail() -> None:
    broken = definition()
    del broken["quality"]
    assert schema_errors(broken) == ["'quality' is a required property"]
    broken = definition()
    broken["settings"][0]["secret"] = True  # not a key the Hub knows
    assert len(schema_errors(broken)) == 1


def test_the_definition_passes_the_hubs_yamllint() -> None:
    assert lint_problems(HUB_FILE.read_text(encoding="utf-8")) == []


def test_yamllint_with_the_hubs_configuration_catches_unsorted_keys() -> None:
    problems = lint_problems("name: tap-x\nlabel: X\n")
    assert problems == ['2: wrong ordering of key "label" in mapping (key-ordering)']


def test_name_and_maintainers_checks() -> None:
    plugin = definition()
    # yaml_check_names: the file goes in the folder named after the plugin.
    assert plugin["name"] == "tap-slack-snow"
    # maintainers_validate: the variant (lower case) has an entry, whose url is the owner of
    # the repository (what the check would write for a missing one).
    maintainers = yaml.safe_load((REPO / "hub" / "maintainers.yml").read_text(encoding="utf-8"))
    entry = maintainers[plugin["variant"].lower()]
    assert entry["url"] == plugin["repo"].rsplit("/", 1)[0]
    assert entry["label"]
    assert entry["name"]
    assert lint_problems((REPO / "hub" / "maintainers.yml").read_text(encoding="utf-8")) == []


@pytest.fixture(scope="module")
def about() -> dict[str, t.Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tap_slack_snow", "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return t.cast("dict[str, t.Any]", json.loads(done.stdout))


def groups_hub_utils_reads(settings: dict[str, t.Any]) -> list[list[str]]:
    """The settings groups as hub-utils derives them from ``--about``: one group of the
    schema's ``required`` (empty: dropped), then one per ``dependentRequired`` entry (the
    setting, then what it needs). It never reads ``anyOf``."""
    groups = [sorted(settings.get("required", []))]
    groups += [[name, *needs] for name, needs in settings.get("dependentRequired", {}).items()]
    return [group for group in groups if group]


def sensitive_guess(name: str, prop: dict[str, t.Any]) -> bool:
    """hub-utils' guess: a string setting whose name holds one of these words is a password."""
    words = ("password", "id", "token", "key", "secret")
    return "string" in prop.get("type", []) and any(word in name.lower() for word in words)


#: Names hub-utils' guess marks sensitive that are not secret: the definition corrects them.
NOT_SECRET_DESPITE_THE_NAME = {"client_id", "team_id", "token_store_path", "token_store_schema"}


def test_a_definition_rebuilt_from_about_keeps_the_settings_groups(
    about: dict[str, t.Any],
) -> None:
    settings = about["settings"]
    derived = groups_hub_utils_reads(settings)
    assert derived == [["client_id", "client_secret", "refresh_token"]]
    hub_groups = definition()["settings_group_validation"]
    # The access_token group has one setting, which dependentRequired cannot say: the
    # definition adds it, from the schema's anyOf (the rule the tap checks).
    assert sorted(sorted(g) for g in hub_groups) == sorted(
        [sorted(g) for g in derived] + [["access_token"]]
    )
    assert sorted(sorted(option["required"]) for option in settings["anyOf"]) == sorted(
        sorted(g) for g in hub_groups
    )
    # Without dependentRequired the rebuilt definition would have no group at all.
    bare = copy.deepcopy(settings)
    del bare["dependentRequired"]
    assert groups_hub_utils_reads(bare) == []


def test_only_real_secrets_are_sensitive_and_the_name_guess_is_corrected(
    about: dict[str, t.Any],
) -> None:
    properties = about["settings"]["properties"]
    secret = {name for name, prop in properties.items() if prop.get("secret")}
    sensitive = {s["name"] for s in definition()["settings"] if s.get("sensitive")}
    assert sensitive == secret
    assert secret == {
        "client_secret",
        "refresh_token",
        "access_token",
        "token_store_key",
        "token_store_url",  # it may hold the database password
    }
    guessed = {name for name, prop in properties.items() if sensitive_guess(name, prop)}
    assert guessed - secret == NOT_SECRET_DESPITE_THE_NAME
    assert secret - guessed == set()
