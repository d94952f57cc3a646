"""A config as the tap reads it: the files (later ones win), then the ``TAP_SLACK_SNOW_*``
variables over them, checked against the schema and the settings' rules.

Shared by the tap and the set-up CLI, so both read and judge a config the same way, with
the same lines. Uses the SDK's own environment parsing and schema validator (private
helpers of the pinned singer-sdk 0.54), so the lines are the ones the SDK would print.
"""

from __future__ import annotations

import copy
import os
import typing as t

from singer_sdk.configuration._dict_config import (
    merge_missing_config_jsonschema,
    parse_environment_config,
)
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._packaging import get_package_version
from singer_sdk.helpers.capabilities import FLATTENING_CONFIG, STREAM_MAPS_CONFIG
from singer_sdk.plugin_base import JSONSchemaValidator, _format_validation_error

from tap_slack_snow.config_schema import CONFIG_JSONSCHEMA, CREDENTIAL_RULE_FAILURES
from tap_slack_snow.inputs import json_object, read_json_file
from tap_slack_snow.settings import ENV_PREFIX, TAP_NAME, Settings

if t.TYPE_CHECKING:
    from pathlib import Path


def numeric_env_settings(schema: t.Mapping[str, t.Any], prefix: str) -> dict[str, t.Any]:
    """The number settings of ``schema`` set as ``<prefix><NAME>`` variables, as numbers.

    The SDK converts integer, boolean, array and object settings but leaves a number
    setting (retry_initial_wait) a string, which then fails validation, and stops with a
    traceback on an integer variable that is not one.
    """
    numeric = {
        name: int if "integer" in prop.get("type", []) else float
        for name, prop in schema["properties"].items()
        if {"integer", "number"} & set(prop.get("type", []))
    }
    converted: dict[str, t.Any] = {}
    for name, kind in numeric.items():
        variable = f"{prefix}{name.upper()}"
        if variable in os.environ:
            try:
                converted[name] = kind(os.environ[variable])
            except ValueError:
                raise ConfigValidationError(
                    "Config validation failed",
                    errors=[
                        f"{variable}={os.environ[variable]!r} is not "
                        f"{'a whole number' if kind is int else 'a number'}: set {name} "
                        "to a number in the environment, the config file or Meltano"
                    ],
                ) from None
    return converted


def checked_schema() -> dict[str, t.Any]:
    """The schema a config is checked against: :data:`CONFIG_JSONSCHEMA` plus the SDK's
    built-in settings of a tap with stream maps and flattening (``stream_maps``,
    ``flattening_enabled``...), as ``PluginBase.append_builtin_config`` adds them."""
    schema = copy.deepcopy(CONFIG_JSONSCHEMA)
    merge_missing_config_jsonschema(STREAM_MAPS_CONFIG, schema)
    merge_missing_config_jsonschema(FLATTENING_CONFIG, schema)
    return schema


def read_config_files(paths: t.Iterable[str | Path]) -> dict[str, t.Any]:
    """JSON config files merged in order (later files win); an unreadable file, one that is
    not JSON or not an object raises :class:`~tap_slack_snow.inputs.InputError`."""
    config: dict[str, t.Any] = {}
    example = '{"client_id": ..., "refresh_token": ...}'
    for path in paths:
        config.update(json_object("config", path, read_json_file("config", path), example))
    return config


def environment_config(
    schema: t.Mapping[str, t.Any] | None = None, prefix: str = ENV_PREFIX
) -> dict[str, t.Any]:
    """The settings set as ``TAP_SLACK_SNOW_*`` variables, as the tap reads them.

    The SDK's parsing (integers, booleans, JSON or ``x,y,z`` lists, objects; it also loads
    a ``.env`` file it finds), with number settings as numbers (:func:`numeric_env_settings`,
    whose :class:`ConfigValidationError` names a variable that is not a number). A JSON
    variable that does not parse raises ``ValueError``.
    """
    schema = dict(checked_schema() if schema is None else schema)
    # Numbers first: the SDK's own int() of a bad integer variable is a traceback.
    converted = numeric_env_settings(schema, prefix)
    return parse_environment_config(schema, prefix) | converted


def load_config(paths: t.Iterable[str | Path] = (), *, parse_env: bool = True) -> dict[str, t.Any]:
    """The config mapping the tap would read: the files, then the environment over them."""
    config = read_config_files(paths)
    if parse_env:
        config.update(environment_config())
    return config


def schema_problems(
    config: dict[str, t.Any], schema: t.Mapping[str, t.Any] | None = None
) -> list[str]:
    """What the JSON Schema check finds, worded as the SDK words it (which also fills the
    schema's defaults into ``config``).

    jsonschema words the schema's failed ``anyOf`` (the two ways to authenticate) as the
    whole config, secrets included, "is not valid under any of the given schemas", and its
    ``dependentRequired`` (the same rule, for Meltano Hub) once more: those lines are left
    out; :meth:`Settings.credential_errors` says what is wrong instead.
    """
    validator = JSONSchemaValidator(checked_schema() if schema is None else schema)
    errors = [_format_validation_error(error) for error in validator.iter_errors(config)]
    return [e for e in errors if not any(rule in e for rule in CREDENTIAL_RULE_FAILURES)]


def config_problems(
    config: dict[str, t.Any], schema: t.Mapping[str, t.Any] | None = None
) -> list[str]:
    """Every problem with a config, one line each, never a secret: the schema's, then the
    rules of :meth:`Settings.errors`. The tap and the set-up CLI both report these."""
    problems = schema_problems(config, schema)
    return problems + Settings.from_config(config).errors()


def validated_settings(
    config: dict[str, t.Any], schema: t.Mapping[str, t.Any] | None = None
) -> Settings:
    """The settings of a config that passes :func:`config_problems`, else
    :class:`ConfigValidationError` with those problems as its ``errors``."""
    problems = config_problems(config, schema)
    if problems:
        raise ConfigValidationError(
            "Config validation failed",
            errors=problems,
            schema=dict(checked_schema() if schema is None else schema),
        )
    return Settings.from_config(config)


def user_agent() -> str:
    """The User-Agent of the tap's requests: ``tap-slack-snow/<version>``."""
    return f"{TAP_NAME}/{get_package_version(TAP_NAME)}"
