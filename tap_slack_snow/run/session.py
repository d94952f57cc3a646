"""One run of the tap: :class:`SlackRun`, what the streams of a run share.

Built from the settings without calling Slack: the token provider, the authenticated client,
the identity (``auth.test``) and the org's workspaces are made on first use, so ``--about``
and ``--discover`` never reach Slack. Streams reach the run through this small interface
only: the settings, the client, the facts about the token, the workspaces, the availability
verdicts, the plan, and fetching ahead (:mod:`.prefetch`).

The run is shared by the threads of a run: the lazy members are built under a lock, the
retry policy and token provider are shared on purpose (one token chain per process; the
provider refreshes under a lock), and each thread gets its own HTTP session (see
:class:`~tap_slack_snow.slack.client.SlackClient`).
"""

from __future__ import annotations

import threading
import typing as t

from tap_slack_snow.auth import (
    RotatingTokenProvider,
    SlackAuthenticator,
    StaticTokenProvider,
    TokenProvider,
    open_store,
)
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.run.availability import Availabilities, StreamTraits
from tap_slack_snow.run.facts import RunFacts
from tap_slack_snow.run.plan import RunPlan
from tap_slack_snow.run.prefetch import FetchJob, Prefetcher
from tap_slack_snow.run.spool import SpoolStopped
from tap_slack_snow.run.workspaces import OrgWorkspaces
from tap_slack_snow.slack.client import SlackClient
from tap_slack_snow.slack.retry import RetryPolicy

if t.TYPE_CHECKING:
    import logging

    from tap_slack_snow.settings import Settings


class FetchSource(StreamTraits, t.Protocol):
    """A selected stream as the run sees it: its traits, and its fetch jobs."""

    @property
    def fetch_ahead_alone(self) -> bool:
        """Fetched ahead even when it is the only stream of the run."""

    @property
    def dry_run(self) -> bool:
        """The run stops at a record count (``--test``): nothing is fetched ahead."""

    @property
    def partition_count(self) -> int:
        """How many partitions (workspaces) the stream runs (0: once, without partitions)."""

    def fetch_jobs(self) -> list[FetchJob]:
        """One job per partition, planned now (main thread)."""


class SlackRun:
    """What one run shares: settings, the Slack client, the token's facts, the workspaces,
    the availability verdicts and the plan, and the workers that fetch ahead."""

    def __init__(
        self,
        settings: Settings,
        *,
        user_agent: str,
        logger: logging.Logger,
        selected_streams: t.Callable[[], t.Sequence[FetchSource]] = tuple,
    ) -> None:
        """Build the retry policy and the client; nothing is sent yet.

        ``selected_streams`` lists the streams of this run, for the plan and the prefetch.
        """
        self.settings = settings
        self.logger = logger
        self._selected_streams = selected_streams
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._announced = False
        self._fetch_started = False
        self._prefetcher: Prefetcher | None = None
        self._token_provider: TokenProvider | None = None
        self._client: SlackClient | None = None
        self._workspaces: OrgWorkspaces | None = None
        #: The client without a token (the token refresh authenticates as the app).
        self.app_client = SlackClient(
            api_url=settings.api_base,
            scim_url=settings.scim_base,
            retry=RetryPolicy(
                max_attempts=settings.retry_max_attempts,
                initial_wait=settings.retry_initial_wait,
                max_rate_limit_wait=settings.max_rate_limit_wait,
                logger=logger,
                sleep=self._pause,
            ),
            timeout=float(settings.request_timeout),
            user_agent=user_agent,
        )
        self.facts = RunFacts(settings, lambda: self.client)
        self.availability = Availabilities(settings, self.facts, lambda: self.workspaces)
        self.plan = RunPlan(
            settings=settings,
            facts=self.facts,
            availabilities=self.availability,
            workspaces=lambda: self.workspaces,
            client=lambda: self.client,
            logger=logger,
            selected=selected_streams,
        )

    # --- the token and the client ---------------------------------------------------------

    @property
    def token_provider(self) -> TokenProvider:
        """The one token source of this process (rotating chain or static token)."""
        with self._lock:
            if self._token_provider is None:
                self._token_provider = self._make_token_provider()
            return self._token_provider

    def _make_token_provider(self) -> TokenProvider:
        settings = self.settings
        if settings.access_token:
            return StaticTokenProvider(settings.access_token)
        if not (settings.client_id and settings.client_secret and settings.refresh_token):
            raise TapSlackError(settings.credential_errors()[0])
        return RotatingTokenProvider(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            refresh_token=settings.refresh_token,
            store=open_store(settings),
            client=self.app_client,
            logger=self.logger,
        )

    @property
    def client(self) -> SlackClient:
        """The client every stream and call of the run uses, bound to the run's token."""
        with self._lock:
            if self._client is None:
                self._client = self.app_client.with_auth(SlackAuthenticator(self.token_provider))
            return self._client

    # --- the workspaces of an Enterprise Grid org -----------------------------------------

    @property
    def workspaces(self) -> OrgWorkspaces:
        """The org's workspaces this run reads (auth.teams.list, listed on first use)."""
        with self._lock:
            if self._workspaces is None:
                self._workspaces = OrgWorkspaces(
                    call=lambda method, params: self.client.call(method, data=params).payload,
                    page_size=self.settings.page_size,
                    wanted=self.settings.wanted_team_ids,
                    logger=self.logger,
                )
            return self._workspaces

    # --- the run's plan and fetching ahead ------------------------------------------------

    def announce(self) -> None:
        """Log the run's plan (streams, edition, scope report) once, when a stream starts."""
        with self._lock:
            if self._announced:
                return
            self._announced = True
            self.plan.log(self._selected_streams())

    def start_fetching(self) -> None:
        """Once per run, when the first stream starts: with ``concurrent_fetch`` (the
        default), start fetching every stream that can run, side by side: up to
        ``max_concurrent_streams`` streams at once (the streams come in the run's order, the
        longest expected last: those start first), and on a Grid org read with an org-level
        token up to ``max_concurrent_workspaces`` workspaces of each per-workspace stream at
        once (Slack counts rate limits per method and workspace: each is its own bucket).

        Not in a dry run (``--test`` reads one record per stream), and not for one stream
        of one partition alone (nothing to read side by side; spooling its pages would only
        cost time and memory) unless it is ``fetch_ahead_alone`` (member_analytics: the
        next day's download overlaps this day's rows). A workspace Slack refuses is still
        asked once per run: the streams share each workspace's first answer (OrgWorkspaces).
        """
        with self._lock:
            if self._fetch_started:
                return
            self._fetch_started = True
            if not self.settings.concurrent_fetch:
                return
            streams = [s for s in self._selected_streams() if self.availability.can_run(s)]
            if any(s.dry_run for s in streams):
                return
            jobs = sum(max(1, s.partition_count) for s in streams)
            if jobs < 2 and not any(s.fetch_ahead_alone for s in streams):
                return  # nothing to read side by side, or to overlap
            prefetcher = Prefetcher(
                max_concurrent=self.settings.max_concurrent_streams,
                max_per_group=self.settings.max_concurrent_workspaces,
            )
            prefetcher.start([stream.fetch_jobs() for stream in streams])
            self._prefetcher = prefetcher

    def fetched_pages(self, key: t.Hashable) -> t.Iterator[t.Any] | None:
        """The pages a worker fetched for ``key`` (a job's key), or None: fetch them here."""
        prefetcher = self._prefetcher
        return prefetcher.pages(key) if prefetcher is not None else None

    def stop_fetching(self) -> None:
        """The run ends early (an error): stop the prefetch workers, delete their spools.

        Workers waiting on a rate limit or a retry wake at once; the call returns when they
        have stopped (or after a few seconds), so nothing they log comes after the run's
        last line.
        """
        with self._lock:
            prefetcher, self._prefetcher = self._prefetcher, None
        if prefetcher is not None:
            self._stopping.set()
            if self._workspaces is not None:
                self._workspaces.stop()  # a request waiting for a workspace's first answer
            prefetcher.stop()

    def _pause(self, seconds: float) -> None:
        """The retry policy's sleep: in a prefetch worker, cut short when the run ends."""
        if self._stopping.wait(seconds) and threading.current_thread() is not (
            threading.main_thread()
        ):
            raise SpoolStopped
