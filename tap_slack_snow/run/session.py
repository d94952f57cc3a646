"""The run's shared objects.

:class:`SlackSession` holds what one run shares: the HTTP connection pool, the retry policy,
the Slack caller (:mod:`tap_slack_snow.slack.client`), the token provider and authenticator, and the
token's identity and edition.

The session is shared by the threads of a run (streams are fetched concurrently, see
:mod:`tap_slack_snow.run.prefetch`): the lazy members are built under a lock, the retry policy and
token provider are shared on purpose (one token chain per process; the provider refreshes under
a lock), and each thread gets its own HTTP session, since ``requests.Session`` is not
documented as thread-safe (its connection pool is, its cookie jar and adapters are not).
"""

from __future__ import annotations

import logging
import threading
import typing as t
from dataclasses import dataclass, field

import requests

from tap_slack_snow.auth import (
    RotatingTokenProvider,
    SlackAuthenticator,
    StaticTokenProvider,
    TokenProvider,
)
from tap_slack_snow.auth.store_choice import open_store
from tap_slack_snow.errors import TapSlackError
from tap_slack_snow.run.availability import can_run, log_run_plan
from tap_slack_snow.run.prefetch import Prefetcher
from tap_slack_snow.run.spool import SpoolStopped
from tap_slack_snow.run.workspaces import OrgWorkspaces, wanted_team_ids
from tap_slack_snow.slack.client import SlackAnswer, SlackCaller
from tap_slack_snow.slack.http import SlackHTTPSession
from tap_slack_snow.slack.retry import MAX_RATE_LIMIT_WAIT_SECONDS, CallStats, RetryPolicy

if t.TYPE_CHECKING:
    from tap_slack_snow.streams.base import SlackStream

T = t.TypeVar("T")

DEFAULT_API_URL = "https://slack.com/api"


@dataclass
class SlackIdentity:
    """Who the token belongs to (auth.test) and what it may do (x-oauth-scopes)."""

    team_id: str | None
    user_id: str | None
    enterprise_id: str | None
    is_enterprise_install: bool
    scopes: frozenset[str] = field(default_factory=frozenset)
    team_name: str | None = None


class SlackSession:
    """What one run shares: connections, retry policy, token chain, identity and edition.

    Built from the tap's settings without calling Slack; the token provider, the identity
    (auth.test) and the edition are made on first use, so ``--about`` and ``--discover``
    never reach Slack. Workspace-scoped facts (the token's team, ``team_id``) are read
    here, so a session can later hold several workspaces of one org.
    """

    def __init__(
        self,
        config: t.Mapping[str, t.Any],
        *,
        user_agent: str,
        logger: logging.Logger,
        auth_setting_errors: t.Callable[[], list[str]] = list,
        selected_streams: t.Callable[[], t.Sequence[SlackStream]] = tuple,
    ) -> None:
        """Build the HTTP session, retry policy and caller; nothing is sent yet.

        ``auth_setting_errors`` says what is wrong with the credential settings (the tap's
        check); ``selected_streams`` lists the streams of this run, for the run's plan.
        """
        self.config = config
        self.logger = logger
        self._auth_setting_errors = auth_setting_errors
        self.selected_streams = selected_streams
        self._lock = threading.RLock()
        self._announced = False
        self._user_agent = user_agent
        self._threads = threading.local()
        #: Fetches streams ahead of their turn while the SDK syncs (None: sequential run).
        self.prefetcher: Prefetcher | None = None
        self._fetch_started = False
        self._stopping = threading.Event()
        self.retry = RetryPolicy(
            max_attempts=int(config.get("retry_max_attempts", 8)),
            initial_wait=float(config.get("retry_initial_wait", 1.0)),
            max_rate_limit_wait=float(
                config.get("max_rate_limit_wait", MAX_RATE_LIMIT_WAIT_SECONDS)
            ),
            logger=logger,
            sleep=self._pause,
        )
        self.caller = SlackCaller(
            api_url=self.api_url,
            http=lambda: self.http,
            retry=self.retry,
            timeout=float(config.get("request_timeout", 60)),
        )
        self._token_provider: TokenProvider | None = None
        self._authenticator: SlackAuthenticator | None = None
        self._identity: SlackIdentity | None = None
        self._workspaces: OrgWorkspaces | None = None

    @property
    def http(self) -> requests.Session:
        """The calling thread's HTTP session (connection pool), made on first use."""
        http: requests.Session | None = getattr(self._threads, "http", None)
        if http is None:
            http = self._threads.http = SlackHTTPSession()  # never follows redirects
            http.headers["User-Agent"] = self._user_agent
        return http

    @property
    def api_url(self) -> str:
        """``api_url`` without a trailing slash."""
        return str(self.config.get("api_url") or DEFAULT_API_URL).rstrip("/")

    @property
    def token_provider(self) -> TokenProvider:
        """The one token source of this process (rotating chain or static token)."""
        with self._lock:
            if self._token_provider is None:
                self._token_provider = self._make_token_provider()
            return self._token_provider

    def _make_token_provider(self) -> TokenProvider:
        config = self.config
        if config.get("access_token"):
            return StaticTokenProvider(config["access_token"])
        errors = self._auth_setting_errors()
        if errors:
            raise TapSlackError(errors[0])
        return RotatingTokenProvider(
            client_id=config["client_id"],
            client_secret=config["client_secret"],
            refresh_token=config["refresh_token"],
            store=open_store(config),
            caller=self.caller,
            logger=self.logger,
        )

    @property
    def authenticator(self) -> SlackAuthenticator:
        """The request authenticator every stream and call uses."""
        with self._lock:
            if self._authenticator is None:
                self._authenticator = SlackAuthenticator(self.token_provider)
            return self._authenticator

    def rotate_after_expiry(self) -> None:
        """Slack said ``token_expired``: rotate the token the last request carried."""
        self.authenticator.rotate_after_expiry()

    def with_retries(self, label: str, attempt: t.Callable[[], T], stats: CallStats) -> T:
        """Run an authenticated ``attempt`` by the retry policy (``token_expired`` rotates)."""
        return self.caller.with_retries(
            label, attempt, stats, on_token_expired=self.rotate_after_expiry
        )

    def send(
        self,
        method: str,
        read: t.Callable[[requests.Response, float], T],
        *,
        http_method: str = "POST",
        params: dict[str, t.Any] | None = None,
        stream: bool = False,
        stats: CallStats | None = None,
        label: str | None = None,
    ) -> T:
        """:meth:`SlackCaller.send` with the run's token."""
        return self.caller.send(
            method,
            read,
            auth=self.authenticator,
            http_method=http_method,
            params=params,
            stream=stream,
            stats=stats,
            on_token_expired=self.rotate_after_expiry,
            label=label,
        )

    def call(
        self,
        method: str,
        *,
        params: dict[str, t.Any] | None = None,
        data: dict[str, t.Any] | None = None,
    ) -> SlackAnswer:
        """Call one Slack method outside a stream with the run's token and policy."""
        return self.caller.call(
            method,
            auth=self.authenticator,
            params=params,
            data=data or None,
            on_token_expired=self.rotate_after_expiry,
        )

    @property
    def identity(self) -> SlackIdentity:
        """auth.test, once per run: team, user, enterprise and granted scopes."""
        with self._lock:
            if self._identity is None:
                self._identity = self._read_identity()
            return self._identity

    def _read_identity(self) -> SlackIdentity:
        answer = self.call("auth.test")
        payload = answer.payload
        header = answer.response.headers.get("x-oauth-scopes", "")
        scopes = frozenset(s.strip() for s in header.split(",") if s.strip())
        return SlackIdentity(
            team_id=str_or_none(payload.get("team_id")),
            user_id=str_or_none(payload.get("user_id")),
            enterprise_id=str_or_none(payload.get("enterprise_id")),
            is_enterprise_install=bool(payload.get("is_enterprise_install")),
            scopes=scopes,
            team_name=str_or_none(payload.get("team")),
        )

    @property
    def edition_setting(self) -> str:
        """The ``edition`` setting: auto, enterprise or standard."""
        return str(self.config.get("edition", "auto"))

    @property
    def edition(self) -> str:
        """``enterprise`` or ``standard``: forced by the edition setting, else detected."""
        setting = self.edition_setting
        if setting in {"enterprise", "standard"}:
            return setting
        identity = self.identity
        org = identity.enterprise_id or identity.is_enterprise_install
        return "enterprise" if org else "standard"

    @property
    def team_id(self) -> str | None:
        """The ``team_id`` setting (a workspace of an org), if set."""
        value = self.config.get("team_id")
        return str(value) if value else None

    @property
    def record_team_id(self) -> str | None:
        """The team records of org-wide reads belong to: the org for an org-level token;
        a workspace-level token: ``team_id`` if set, else the token's team."""
        if self.org_level:
            return self.org_id
        if self.team_id_mismatch():
            # A workspace-level token reads its own workspace whatever team_id says.
            return self.identity.team_id
        return self.team_id or self.identity.team_id

    # --- the workspaces of an Enterprise Grid org ---------------------------------------

    @property
    def org_level(self) -> bool:
        """The token is org-level (Grid app installed on the whole org)."""
        return self.identity.is_enterprise_install

    @property
    def org_id(self) -> str | None:
        """The org an org-level token belongs to (its records' ``team_id``)."""
        return self.identity.enterprise_id or self.identity.team_id

    @property
    def workspaces(self) -> OrgWorkspaces:
        """The org's workspaces this run reads (auth.teams.list, listed on first use)."""
        with self._lock:
            if self._workspaces is None:
                self._workspaces = OrgWorkspaces(
                    call=lambda method, params: self.call(method, data=params).payload,
                    page_size=int(self.config.get("page_size") or 1000),
                    wanted=wanted_team_ids(self.config),
                    logger=self.logger,
                )
            return self._workspaces

    @property
    def single_workspace(self) -> str | None:
        """The one workspace the run is restricted to (team_id, or team_ids of one)."""
        wanted = wanted_team_ids(self.config)
        return wanted[0] if wanted and len(wanted) == 1 else None

    def team_id_mismatch(self) -> str | None:
        """The warning when ``team_id`` is not the workspace of a workspace-level token."""
        identity = self.identity
        if (
            not self.team_id
            or identity.is_enterprise_install
            or not identity.team_id
            or identity.team_id == self.team_id
        ):
            return None
        return (
            f"team_id {self.team_id} is not the token's workspace {identity.team_id}, and a "
            f"workspace-level token reads only its own workspace, so records carry "
            f"{identity.team_id}: remove team_id, or authorise the app in {self.team_id} (on "
            "Enterprise Grid: install it on the org for an org-level token)"
        )

    def announce_run(self) -> None:
        """Log the run's plan (streams, edition, scope report) once, when a stream starts."""
        with self._lock:
            if self._announced:
                return
            self._announced = True
            log_run_plan(self, self.selected_streams())

    def begin_fetching(self) -> None:
        """Once per run, when the first stream starts: with ``concurrent_fetch`` (the
        default), start fetching every stream that can run, side by side (a stream with
        partitions, partition after partition, by its one worker).

        Not in a dry run (``--test`` reads one record per stream), and not for one stream
        alone (nothing to read side by side; spooling its pages would only cost time and
        memory) unless it is ``fetch_ahead_alone`` (member_analytics: the next day's
        download overlaps this day's rows).
        """
        with self._lock:
            if self._fetch_started:
                return
            self._fetch_started = True
            if not self.config.get("concurrent_fetch", True):
                return
            # A stream with partitions (a Grid org's workspaces) is fetched by its one worker,
            # partition after partition; a workspace Slack refuses is still asked once per
            # run, since the streams share each workspace's first answer (OrgWorkspaces).
            streams = [stream for stream in self.selected_streams() if can_run(self, stream)]
            if any(s.ABORT_AT_RECORD_COUNT is not None for s in streams):
                return
            if len(streams) < 2 and not any(s.fetch_ahead_alone for s in streams):
                return  # nothing to read side by side, or to overlap
            prefetcher = Prefetcher(
                max_concurrent=int(self.config.get("max_concurrent_streams", 8))
            )
            prefetcher.start(streams)
            self.prefetcher = prefetcher

    def stop_fetching(self) -> None:
        """The run ends early (an error): stop the prefetch workers, delete their spools.

        Workers waiting on a rate limit or a retry wake at once; the call returns when they
        have stopped (or after a few seconds), so nothing they log comes after the run's
        last line.
        """
        with self._lock:
            prefetcher, self.prefetcher = self.prefetcher, None
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


def str_or_none(value: t.Any) -> str | None:
    """``value`` when it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None
