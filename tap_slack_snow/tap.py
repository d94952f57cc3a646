"""tap-slack-snow: the Tap (settings checked, streams listed), one-line errors, signals.

The settings themselves (schema, credential rule) are in :mod:`tap_slack_snow.settings`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import typing as t
from functools import cached_property

import click
from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.helpers.capabilities import TapCapabilities
from singer_sdk.plugin_base import _ConfigInput  # the SDK's type for a parsed --config
from typing_extensions import override

from tap_slack_snow.config import (
    environment_config,
    read_config_files,
    schema_problems,
    user_agent,
    validated_settings,
)
from tap_slack_snow.config_schema import CONFIG_JSONSCHEMA
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.inputs import (
    NOTHING_SELECTED,
    InputError,
    check_catalog,
    check_state,
    parse_json_text,
)
from tap_slack_snow.interrupts import defer_signal, exit_code_for, signal_name
from tap_slack_snow.redact import SecretRedactor
from tap_slack_snow.run.session import SlackRun
from tap_slack_snow.settings import TAP_NAME, Settings
from tap_slack_snow.streams import STREAM_TYPES
from tap_slack_snow.streams.order import sync_order
from tap_slack_snow.text import printable
from tap_slack_snow.writer import SlackMessageWriter, TargetStoppedReadingError

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.helpers.capabilities import CapabilitiesEnum
    from singer_sdk.streams import Stream

    from tap_slack_snow.streams.base import SlackStream

__all__ = ["STREAM_TYPES", "TapSlackSnow"]


class TapSlackSnow(Tap):
    """Singer tap for Slack subscriptions, users and user activity."""

    name = TAP_NAME
    message_writer_class = SlackMessageWriter
    # `--test` reads one record per stream (Meltano's `meltano config test` runs it).
    capabilities: t.ClassVar[list[CapabilitiesEnum]] = [*Tap.capabilities, TapCapabilities.TEST]

    config_jsonschema = CONFIG_JSONSCHEMA

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Build the tap (validating the config unless told not to) and mask its secrets."""
        #: The streams in the run's order, fixed once the state is loaded (see ``streams``).
        self._sync_order: dict[str, Stream] | None = None
        self._state_loaded = False
        super().__init__(*args, **kwargs)
        SecretRedactor.add(*self.settings.secrets)
        if self.input_catalog is not None and not self.selected_slack_streams():
            self.logger.warning(NOTHING_SELECTED, ", ".join(sorted(self.streams)))

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The SDK's schema check plus the settings' rules, each problem named
        (:func:`~tap_slack_snow.settings.config_problems`, as the set-up CLI reports them).

        Without ``raise_errors`` (``--discover``, which needs no credentials) only the schema's
        problems are warned about.
        """
        schema = self.config_jsonschema
        self.append_builtin_config(schema)
        if not raise_errors:
            schema_errors = schema_problems(self._config, schema)
            if schema_errors:
                self.logger.warning("Config validation failed: %s", "; ".join(schema_errors))
            return schema_errors
        validated_settings(self._config, schema)  # raises ConfigValidationError
        return []

    @classproperty
    @override
    def _env_var_config(cls) -> dict[str, t.Any]:
        """``TAP_SLACK_SNOW_*`` variables as the SDK parses them, with numbers as numbers.

        Meltano passes every setting this way to plugin commands such as ``auth-check``.
        """
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        return environment_config(schema, cls._env_var_prefix)

    @override
    def discover_streams(self) -> list[Stream]:
        """The streams; discovery never calls Slack."""
        return [stream_class(tap=self, run=self.run) for stream_class in STREAM_TYPES]

    @override
    def load_state(self, state: dict[str, t.Any]) -> None:
        """The SDK's merge; the run's order is then read from this state (see ``streams``)."""
        super().load_state(state)
        self._state_loaded = True
        self._sync_order = None

    @override
    @property
    def streams(self) -> dict[str, Stream]:
        """The streams in the order the run syncs them: the shortest expected fetch first
        (:mod:`~tap_slack_snow.streams.order`), so that streams whose pages are already
        fetched are not written after one Slack's rate limits still hold back.

        ``Tap.sync_all`` (final) syncs the streams in this mapping's order; the SDK's own
        lists them by name. The order is fixed from the state the run starts from (the
        SDK's mapping, by name, until the state is loaded), so it does not move while the
        run's bookmarks do. The catalog keeps the streams by name (:attr:`catalog_dict`).
        """
        streams = super().streams
        if not self._state_loaded:
            return streams
        if self._sync_order is None:
            rank = {kind: number for number, kind in enumerate(STREAM_TYPES)}
            by_kind = sorted(
                (t.cast("SlackStream[t.Any]", stream) for stream in streams.values()),
                key=lambda stream: rank.get(type(stream), len(rank)),
            )
            today = dt.datetime.now(tz=dt.timezone.utc).date()
            self._sync_order = {stream.name: stream for stream in sync_order(by_kind, today)}
        return self._sync_order

    @override
    @property
    def catalog_dict(self) -> dict[str, t.Any]:
        """The catalog (``--discover``) with its streams by name, as the SDK lists them: the
        run's order depends on the state and is not the catalog's."""
        catalog = dict(super().catalog_dict)
        entries = catalog.get("streams")
        if isinstance(entries, list):
            catalog["streams"] = sorted(entries, key=lambda entry: str(entry.get("tap_stream_id")))
        return catalog

    @cached_property
    def settings(self) -> Settings:
        """The settings, read once from the config (the only reader of the config)."""
        return Settings.from_config(self.config)

    @cached_property
    def run(self) -> SlackRun:
        """What the run's streams share (built without calling Slack)."""
        return SlackRun(
            self.settings,
            user_agent=user_agent(),
            logger=self.logger,
            selected_streams=self.selected_slack_streams,
        )

    def selected_slack_streams(self) -> list[SlackStream[t.Any]]:
        """The streams this run syncs, in the order it syncs them (see ``streams``)."""
        return [
            t.cast("SlackStream[t.Any]", stream)
            for stream in self.streams.values()
            if stream.selected
        ]

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM / SIGINT: the last STATE, one line saying where, and exit 143 / 130.

        The SDK's handler exits 0 ("Gracefully shutting down"), so an orchestrator would
        record a killed run as a success. A signal during the token refresh-and-save waits
        for the save (see :mod:`tap_slack_snow.interrupts`).
        """
        name = signal_name(signum)
        waiting_for = defer_signal(signum)
        if waiting_for is not None:
            self.logger.info("%s received while %s; stopping once that is done", name, waiting_for)
            return
        # Interrupted inside a message (a write blocked on a slow target): writing the STATE
        # from here would corrupt that message, so the last STATE already sent stays the
        # resume point (it never covers more than the records sent before it).
        if not getattr(self.message_writer, "writing", False):
            self.state_writer.write_state(self.state)
        running = [s for s in self.selected_slack_streams() if s.runner.running]
        where = (
            "during stream "
            + ", ".join(f"{s.name} ({s.records_emitted} records so far)" for s in running)
            if running
            else "between streams"
        )
        self.logger.error(
            "Interrupted by %s %s; the last STATE message is where the next run resumes "
            "(exit code %d)",
            name,
            where,
            exit_code_for(signum),
        )
        raise SystemExit(exit_code_for(signum))

    @override
    @classmethod
    def cb_config(
        cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]
    ) -> _ConfigInput:
        """``--config``: files merged in order (later ones win); ``ENV`` as the SDK reads it.

        Replaces the SDK's file reader, which ends in a traceback for a file that is empty,
        not JSON or not an object.
        """
        with _one_line_errors("Run failed"):
            # ENV is read by _env_var_config when the tap is built.
            config = read_config_files(name for name in value if name != "ENV")
        return _ConfigInput(config=config, parse_env="ENV" in value)

    @override
    @classmethod
    def invoke(cls, *args: t.Any, **kwargs: t.Any) -> None:
        """Run the tap; a user-fixable error ends the run with one line and exit code 1.

        The state and catalog files are checked first (one line per mistake, nothing
        written): the SDK would take an empty file, a list or a bookmark of "not-a-date".
        """
        with _one_line_errors("Run failed"):
            for name, check in (("state", cls._checked_state), ("catalog", cls._checked_catalog)):
                handle = kwargs.get(name)
                if handle is not None:
                    path = getattr(handle, "name", name)
                    try:
                        text = handle.read()
                    except (OSError, UnicodeDecodeError) as exc:
                        raise InputError(f"{name} file {path} cannot be read ({exc})") from None
                    value = check(path, parse_json_text(name, path, text))
                    kwargs[name] = io.StringIO(json.dumps(value))
            super().invoke(*args, **kwargs)

    @classmethod
    def _checked_state(cls, path: str, value: t.Any) -> dict[str, t.Any]:
        # Streams with a replication key declare it as a class attribute (a date-time).
        dated = [
            str(getattr(stream, "name", ""))
            for stream in STREAM_TYPES
            if isinstance(getattr(stream, "replication_key", None), str)
        ]
        return check_state(path, value, dated, cls.logger)

    @classmethod
    def _checked_catalog(cls, path: str, value: t.Any) -> dict[str, t.Any]:
        return check_catalog(path, value)

    @override
    @classmethod
    def cb_test(cls, *args: t.Any, **kwargs: t.Any) -> None:
        """``--test``: one record per stream, with the same one-line errors."""
        with _one_line_errors("Connection test failed"):
            super().cb_test(*args, **kwargs)


#: The longest error line (the tap's own text plus Slack's, each piece already cut).
MAX_ERROR_CHARS = 4000


@contextlib.contextmanager
def _one_line_errors(prefix: str) -> t.Iterator[None]:
    """A user-fixable error (or invalid settings) ends the run with one line and exit 1."""
    try:
        yield
    except ConfigValidationError as exc:
        TapSlackSnow.logger.error("%s: invalid settings: %s", prefix, "; ".join(exc.errors) or exc)
        raise SystemExit(1) from None
    except TapSlackError as exc:
        # printable once more: every line is one line, whatever text a message quotes
        TapSlackSnow.logger.error("%s: %s", prefix, printable(exc, limit=MAX_ERROR_CHARS))
        raise SystemExit(1) from None
    except TargetStoppedReadingError:
        TapSlackSnow.logger.error(
            "%s: the target stopped reading the tap's output (broken pipe), so nothing more "
            "could be sent; the target's own log says why it stopped",
            prefix,
        )
        raise SystemExit(1) from None


if __name__ == "__main__":
    TapSlackSnow.cli()
