"""The tap's settings as ``check`` and ``restore`` read them: as the tap reads them.

Config files merged in order, ``TAP_SLACK_SNOW_*`` variables over them (those of an
``--env-file`` too), checked with the tap's own rules (:mod:`tap_slack_snow.settings`); the
client secret of a rotating-token setup is asked for when the config lacks it.
"""

from __future__ import annotations

import typing as t

from singer_sdk.exceptions import ConfigValidationError

from tap_slack_snow.cli.common import UserError, logger, read_client_secret
from tap_slack_snow.cli.env_file import environment_from
from tap_slack_snow.config import load_config, schema_problems, validated_settings
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.redact import SecretRedactor
from tap_slack_snow.settings import Settings

if t.TYPE_CHECKING:
    from pathlib import Path


def read_settings(
    config_paths: t.Sequence[str], env_file: Path | None, *, validate: bool = True
) -> Settings:
    """The settings of these config files and the environment; their secrets are masked.

    ``validate``: a problem ends the command (``invalid config: ...``, the tap's lines);
    else the schema's problems are only warned about, as the tap does for ``--discover``.
    """
    with environment_from(env_file):
        try:
            config = load_config(config_paths)
            if Settings.from_config(config).lacks_client_secret:
                # Input still being built: the settings are read from it below.
                config["client_secret"] = read_client_secret()
            if validate:
                settings = validated_settings(config)
            else:
                problems = schema_problems(config)
                if problems:
                    logger.warning("Config validation failed: %s", "; ".join(problems))
                settings = Settings.from_config(config)
        except TapSlackError as exc:
            raise UserError(str(exc)) from None
        except ConfigValidationError as exc:
            raise UserError(f"invalid config: {'; '.join(exc.errors) or exc}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"cannot read the config: {exc}") from None
    SecretRedactor.add(*settings.secrets)
    return settings
