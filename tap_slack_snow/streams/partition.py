"""One stream's run: per-workspace partitions, the skip policies and the summary line.

With an org-level token a workspace-level method runs once per workspace of the org (one
partition each); a workspace Slack refuses is skipped by ``on_unavailable``. The stream base
class (:class:`~tap_slack_snow.streams.base.SlackStream`) builds on this.
"""

from __future__ import annotations

import threading
import time
import typing as t

from singer_sdk import RESTStream
from typing_extensions import override

from tap_slack_snow.run.availability import check_available, reason_to_skip
from tap_slack_snow.run.workspaces import WORKSPACE_ACCESS_ERRORS
from tap_slack_snow.slack.errors import StreamUnavailableError, describe

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

    from tap_slack_snow.records.drift import DriftPolicy
    from tap_slack_snow.run.session import SlackSession
    from tap_slack_snow.slack.retry import CallStats
    from tap_slack_snow.streams.base import SlackStream

Reply = t.TypeVar("Reply")
#: State key of a full-table stream: how many records its last sync emitted (an estimate of
#: its size for the next run's progress lines; no bookmark, nothing is skipped by it).
RECORDS_LAST_SYNC = "records_last_sync"

#: What a partition's run yields: records, or blocks of them for batch files.
PartitionItem = t.TypeVar("PartitionItem")


class PartitionedStream(RESTStream[str | None]):
    """A stream's run, once or once per workspace, with the skip policies applied."""

    #: A workspace-level method: with an org-level token Slack requires ``team_id``, so the
    #: stream runs once per workspace of the org (one partition each).
    per_workspace: t.ClassVar[bool] = False

    # Set by the stream base class (SlackStream.__init__).
    session: SlackSession
    call_stats: CallStats
    records_emitted: int
    _drift: DriftPolicy | None

    def __init__(self, tap: Tap, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up the run's per-partition state."""
        super().__init__(tap, *args, **kwargs)
        self.skipped_reason: str | None = None
        # The workspace of the partition being read (org-level token), per thread: a
        # prefetch worker fetches one partition while the SDK emits another.
        self._partition = threading.local()
        #: True while a partition of the stream is being read (the interruption line names it).
        self.running = False
        self._dry_run_yielded = 0
        self.workspaces_read = 0
        self._partitions_started = 0
        self._checked = False
        self._seconds = 0.0

    @property
    def slack_stream(self) -> SlackStream:
        """This stream as a :class:`~tap_slack_snow.streams.base.SlackStream`, the one class this
        is a base of (the availability checks read the stream's declarative knobs)."""
        return t.cast("SlackStream", self)

    @override
    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        """One partition per workspace for per-workspace streams on an org-level token.

        Read by the SDK when the stream's sync starts (never during discovery); the list is
        the run's, so it is the same when the SDK reads it again to finalize state. A
        workspace-level token, an org-wide stream and a skipped stream have none.
        """
        if not self.per_workspace or self.skipped_reason:
            return None
        session = self.session
        session.announce_run()
        if not session.org_level or reason_to_skip(session, self.slack_stream):
            return None
        return session.workspaces.partitions

    @property
    def partitioned(self) -> bool:
        """The stream runs once per workspace in this run."""
        return self.per_workspace and self.session.org_level

    @property
    def partition_team_id(self) -> str | None:
        """The workspace of the partition this thread reads (org-level token), else None."""
        team_id: str | None = getattr(self._partition, "team_id", None)
        return team_id

    @partition_team_id.setter
    def partition_team_id(self, team_id: str | None) -> None:
        self._partition.team_id = team_id

    @property
    def record_team_id(self) -> str | None:
        """The workspace (or, for org-wide reads of an org-level token, the org) records
        belong to; a workspace-level token: ``team_id`` if set, else the token's team."""
        return self.partition_team_id or self.session.record_team_id

    @property
    def request_team_id(self) -> str | None:
        """``team_id`` to send: the partition's workspace (org-level token), else the
        setting, as before (a workspace-level token: Slack ignores it)."""
        return self.partition_team_id or self.session.team_id

    @override
    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Records of one partition (or of the whole stream), applying the skip policies."""
        return self.run_partition(
            context,
            lambda: self._records_within_dry_run_limit(RESTStream.get_records(self, context)),
        )

    def run_partition(
        self, context: Context | None, source: t.Callable[[], t.Iterable[PartitionItem]]
    ) -> t.Iterator[PartitionItem]:
        """What ``source`` yields for one partition (or the whole stream), with the skip
        policies.

        Once per stream: the edition and scope checks, and the summary line after the last
        partition (only when the stream finished: a failed or interrupted stream has its own
        line, the error or where the signal stopped it). Per workspace: a STATE message
        before each workspace after the first (so an interrupted run resumes in the
        workspace it stopped in), and the skip of a workspace Slack refuses.
        """
        self.session.announce_run()
        self.session.begin_fetching()
        if self.skipped_reason:
            return  # skipped in an earlier partition
        team_id = context.get("team_id") if context else None
        partitions = self.partitions or []
        first = self._partitions_started == 0
        self._partitions_started += 1
        last = self._partitions_started >= len(partitions)
        if not first:
            self._tap.state_writer.write_state(self.tap_state)  # the previous workspace is final
        self.partition_team_id = team_id
        started = time.monotonic()
        failed = True
        self.running = True
        try:
            yield from self._partition_records(context, team_id, source)
            failed = False
        except BaseException:
            self.session.stop_fetching()  # the run ends here: no worker goes on fetching
            raise
        finally:
            self.running = False
            self.partition_team_id = None
            self._seconds += time.monotonic() - started
            if failed or last or self.skipped_reason:
                if self._drift is not None:
                    self._drift.log_summary()
                if not failed:
                    self.log_summary(self._seconds)

    def _partition_records(
        self,
        context: Context | None,
        team_id: str | None,
        source: t.Callable[[], t.Iterable[PartitionItem]],
    ) -> t.Iterator[PartitionItem]:
        session = self.session
        workspaces = session.workspaces
        if team_id and workspaces.reported(team_id):
            self.logger.debug("Stream %s: workspace %s was refused earlier", self.name, team_id)
            return
        emitted = self.records_emitted
        policy = self.config.get("on_unavailable", "skip")
        try:
            if not self._checked:
                self._checked = True
                reason = check_available(session, self.slack_stream)
                if reason:
                    self.skipped_reason = reason
                    self.logger.info("Skipping stream %s: %s", self.name, reason)
                    return
            yield from source()
            if not self.replication_key:
                # kept in the state for the next run's progress lines (time left)
                self.get_context_state(context)[RECORDS_LAST_SYNC] = self.records_emitted - emitted
            if team_id and team_id != session.org_id:
                self.workspaces_read += 1
        except StreamUnavailableError as exc:
            if team_id and exc.code in WORKSPACE_ACCESS_ERRORS:
                where = workspaces.describe(team_id)
                if self.records_emitted > emitted or policy != "skip":
                    raise StreamUnavailableError(
                        f"workspace {where}: {exc}", code=exc.code
                    ) from None
                if workspaces.report(team_id):
                    self.logger.warning(
                        "Skipping workspace %s (on_unavailable=skip): %s", where, exc
                    )
                return
            if self.records_emitted > emitted or policy != "skip":
                raise
            if team_id and self.workspaces_read:
                self.logger.warning(
                    "Skipping stream %s in workspace %s (on_unavailable=skip): %s",
                    self.name,
                    workspaces.describe(team_id),
                    exc,
                )
                return
            self.skipped_reason = str(exc)
            self.logger.warning("Skipping stream %s (on_unavailable=skip): %s", self.name, exc)

    def ask_workspace(self, send: t.Callable[[], Reply]) -> Reply:
        """Send one request of this thread's partition, sharing the workspace's first answer.

        A request naming a workspace whose first answer (from any stream, any thread) was a
        refusal is not sent: the refusal is raised as this stream's own, as if Slack had
        answered it, and the main thread skips or fails by policy when the SDK reaches the
        partition (:meth:`_partition_records`).
        """
        team_id = self.partition_team_id
        if not team_id:
            return send()
        workspaces = self.session.workspaces
        refusal = workspaces.before_request(team_id)
        if refusal:
            message = describe(refusal, self.slack_stream.slack_method)
            raise StreamUnavailableError(message, code=refusal)
        code: str | None = None
        try:
            return send()
        except StreamUnavailableError as exc:
            code = exc.code if exc.code in WORKSPACE_ACCESS_ERRORS else None
            raise
        finally:
            workspaces.after_answer(team_id, code)

    def _records_within_dry_run_limit(
        self, records: t.Iterable[dict[str, t.Any]]
    ) -> t.Iterator[dict[str, t.Any]]:
        """Stop at the ``--test`` record limit instead of letting the SDK abort the stream.

        The SDK aborts a stream on the record after the limit, and its abort is logged as
        "An unhandled error occurred" for every stream of a healthy connection test.
        """
        limit = self.ABORT_AT_RECORD_COUNT
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

        A skipped stream already had its one line (the reason and the fix).
        """
        if self.skipped_reason:
            return
        stats = self.call_stats
        read = self.workspaces_read
        self.session.logger.info(
            "Stream %s done: %s%d records, %d requests (%d rate-limited, %d retried), "
            "%.1f s waiting on rate limits, %.1f s in all",
            self.name,
            f"{read} workspace{'s' if read != 1 else ''}, " if self.partitioned else "",
            self.records_emitted,
            stats.requests,
            stats.rate_limited,
            stats.retries,
            stats.rate_limit_wait_seconds,
            seconds,
        )
