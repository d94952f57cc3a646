"""One stream's run, partition by partition: the skip policies and the summary line.

With an org-level token a workspace-level method runs once per workspace of the org (one
partition each); a workspace Slack refuses is skipped by ``on_unavailable``. Each stream has
one :class:`PartitionRunner`; it reads the stream through :class:`RunnableStream`, so it holds
the run's bookkeeping without being a parent class of the stream.
"""

from __future__ import annotations

import logging
import time
import typing as t

from tap_slack_snow.run.metrics import log_call_metrics
from tap_slack_snow.run.workspaces import WORKSPACE_ACCESS_ERRORS
from tap_slack_snow.slack.errors import SlackAPIError, StreamUnavailableError, describe
from tap_slack_snow.text import printable

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_slack_snow.run.session import SlackRun
    from tap_slack_snow.run.workspaces import OrgWorkspaces
    from tap_slack_snow.slack.retry import CallStats

Reply = t.TypeVar("Reply")
#: What a partition's run yields: records, or blocks of them for batch files.
Item = t.TypeVar("Item")


class RunnableStream(t.Protocol):
    """What the runner reads of its stream."""

    @property
    def name(self) -> str:
        """The stream's name."""

    @property
    def slack_method(self) -> str:
        """The Slack method it reads."""

    @property
    def logger(self) -> logging.Logger:
        """The stream's logger."""

    @property
    def records_emitted(self) -> int:
        """Records emitted so far in this run (all partitions)."""

    @property
    def call_stats(self) -> CallStats:
        """Requests, rate limits and retries so far."""

    @property
    def partition_count(self) -> int:
        """How many partitions the stream runs (0: it runs once, without partitions)."""

    @property
    def partitioned(self) -> bool:
        """The stream runs once per workspace in this run."""

    def write_state(self) -> None:
        """Write a STATE message now."""

    def finish_partition(self, context: Context | None, records: int) -> None:
        """The partition finished with ``records`` records."""

    def log_drift_summary(self) -> None:
        """The drift policy's closing lines."""

    def activate_version(self) -> None:
        """Every partition was read to its end: ACTIVATE_VERSION, if one is due."""

    def optional_partition(self, team_id: str | None) -> bool:
        """A partition Slack may not answer for (a refusal is noted, not an error)."""

    def check_available(self) -> str | None:
        """The skip reason by edition; raises StreamUnavailableError for a missing scope."""


class PartitionRunner:
    """A stream's run state: skipped or not, running, workspaces read, time spent."""

    def __init__(self, stream: RunnableStream, run: SlackRun) -> None:
        """Nothing has run yet."""
        self.stream = stream
        self.run = run
        #: Why the stream is skipped in this run (set once, for every later partition).
        self.skipped_reason: str | None = None
        #: True while a partition of the stream is being read (the interruption line names it).
        self.running = False
        self.workspaces_read = 0
        self._partitions_started = 0
        self._partitions_finished = 0
        self._checked = False
        self._seconds = 0.0
        self._dry_run_yielded = 0

    def run_partition(
        self, context: Context | None, source: t.Callable[[], t.Iterable[Item]]
    ) -> t.Iterator[Item]:
        """What ``source`` yields for one partition (or the whole stream), with the skip
        policies.

        Once per stream: the edition and scope checks, and the summary line after the last
        partition (only when the stream finished: a failed or interrupted stream has its own
        line, the error or where the signal stopped it), and ACTIVATE_VERSION only when
        every partition was read to its end (a workspace skipped or refused, a stream skipped
        or failed: none, so the target deletes nothing Slack still lists). Per workspace: a
        STATE message
        before each workspace after the first (so an interrupted run resumes in the
        workspace it stopped in), and the skip of a workspace Slack refuses.
        """
        self.run.announce()
        self.run.start_fetching()
        if self.skipped_reason:
            return  # skipped in an earlier partition
        team_id = context.get("team_id") if context else None
        first = self._partitions_started == 0
        self._partitions_started += 1
        last = self._partitions_started >= self.stream.partition_count
        if not first:
            self.stream.write_state()  # the previous workspace is final
        started = time.monotonic()
        failed = True
        self.running = True
        try:
            if self.stream.optional_partition(team_id):
                yield from self._optional(context, team_id, source)
            else:
                yield from self._partition(context, team_id, source)
            failed = False
        except BaseException:
            self.run.stop_fetching()  # the run ends here: no worker goes on fetching
            raise
        finally:
            self.running = False
            self._seconds += time.monotonic() - started
            if failed or last or self.skipped_reason:
                self.stream.log_drift_summary()
                if not failed:
                    self.log_summary(self._seconds)
            if not failed and last and self._partitions_finished == self._partitions_started:
                self.stream.activate_version()  # after the last record, before the STATE

    def _optional(
        self,
        context: Context | None,
        team_id: str | None,
        source: t.Callable[[], t.Iterable[Item]],
    ) -> t.Iterator[Item]:
        try:
            yield from self._partition(context, team_id, source)
        except (SlackAPIError, StreamUnavailableError) as exc:
            self.stream.logger.info(
                "%s: Slack does not describe the org %s (%s)",
                self.stream.name,
                printable(team_id),
                exc.code,
            )

    def _partition(
        self,
        context: Context | None,
        team_id: str | None,
        source: t.Callable[[], t.Iterable[Item]],
    ) -> t.Iterator[Item]:
        stream = self.stream
        workspaces = self.run.workspaces if team_id else None
        if team_id and workspaces is not None and workspaces.reported(team_id):
            stream.logger.debug(
                "Stream %s: workspace %s was refused earlier", stream.name, printable(team_id)
            )
            return
        emitted = stream.records_emitted
        try:
            if not self._checked:
                self._checked = True
                reason = stream.check_available()
                if reason:
                    self.skipped_reason = reason
                    stream.logger.info("Skipping stream %s: %s", stream.name, reason)
                    return
            yield from source()
            stream.finish_partition(context, stream.records_emitted - emitted)
            self._partitions_finished += 1
            if team_id and team_id != self.run.facts.org_id:
                self.workspaces_read += 1
        except StreamUnavailableError as exc:
            self._unavailable(exc, team_id, workspaces, emitted)

    def _unavailable(
        self,
        exc: StreamUnavailableError,
        team_id: str | None,
        workspaces: OrgWorkspaces | None,
        emitted: int,
    ) -> None:
        """Skip the workspace or the stream by ``on_unavailable``, or raise."""
        stream = self.stream
        skip = self.run.settings.skips_unavailable
        after_records = stream.records_emitted > emitted
        if team_id and workspaces is not None and exc.code in WORKSPACE_ACCESS_ERRORS:
            where = workspaces.describe(team_id)
            if after_records or not skip:
                raise StreamUnavailableError(f"workspace {where}: {exc}", code=exc.code) from None
            if workspaces.report(team_id):
                stream.logger.warning("Skipping workspace %s (on_unavailable=skip): %s", where, exc)
            return
        if after_records or not skip:
            raise exc
        if team_id and workspaces is not None and self.workspaces_read:
            stream.logger.warning(
                "Skipping stream %s in workspace %s (on_unavailable=skip): %s",
                stream.name,
                workspaces.describe(team_id),
                exc,
            )
            return
        self.skipped_reason = str(exc)
        stream.logger.warning("Skipping stream %s (on_unavailable=skip): %s", stream.name, exc)

    def within_dry_run_limit(
        self, records: t.Iterable[dict[str, t.Any]], limit: int | None
    ) -> t.Iterator[dict[str, t.Any]]:
        """Stop at the ``--test`` record ``limit`` instead of letting the SDK abort the stream.

        The SDK aborts a stream on the record after the limit, and its abort is logged as
        "An unhandled error occurred" for every stream of a healthy connection test.
        """
        if limit is None:
            yield from records
            return
        for record in records:  # counted here: the SDK post-processes after the yield
            if self._dry_run_yielded >= limit:
                return
            self._dry_run_yielded += 1
            yield record
            if self._dry_run_yielded >= limit:
                return

    def log_summary(self, seconds: float) -> None:
        """One line per finished stream: records, requests, rate-limit waits, time.

        A skipped stream already had its one line (the reason and the fix). Both also log
        their Slack calls as METRIC points (:mod:`tap_slack_snow.run.metrics`).
        """
        stream = self.stream
        stats = stream.call_stats
        log_call_metrics(
            stream.name, stats, status="skipped" if self.skipped_reason else "succeeded"
        )
        if self.skipped_reason:
            return
        read = self.workspaces_read
        self.run.logger.info(
            "Stream %s done: %s%d records, %d requests (%d rate-limited, %d retried), "
            "%.1f s waiting on rate limits, %.1f s in all",
            stream.name,
            f"{read} workspace{'s' if read != 1 else ''}, " if stream.partitioned else "",
            stream.records_emitted,
            stats.requests,
            stats.rate_limited,
            stats.retries,
            stats.rate_limit_wait_seconds,
            seconds,
        )


def ask_workspace(
    workspaces: OrgWorkspaces, team_id: str | None, method: str, send: t.Callable[[], Reply]
) -> Reply:
    """Send one request of a partition, sharing the workspace's first answer.

    A request naming a workspace whose first answer (from any stream, any thread) was a
    refusal is not sent: the refusal is raised as this stream's own, as if Slack had
    answered it, and the main thread skips or fails by policy when the SDK reaches the
    partition (:meth:`PartitionRunner.run_partition`).
    """
    if not team_id:
        return send()
    refusal = workspaces.before_request(team_id)
    if refusal:
        raise StreamUnavailableError(describe(refusal, method), code=refusal)
    code: str | None = None
    try:
        return send()
    except StreamUnavailableError as exc:
        code = exc.code if exc.code in WORKSPACE_ACCESS_ERRORS else None
        raise
    finally:
        workspaces.after_answer(team_id, code)
