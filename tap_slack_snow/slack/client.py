"""The one way any code calls Slack: :class:`SlackClient`.

Stream pages, the token refresh, the analytics download, ``auth.test`` and the set-up CLI's
calls all go through :meth:`SlackClient.send`: one HTTP session per thread that never follows
a redirect and bounds each whole answer (:mod:`.http`), the one retry policy (:mod:`.retry`)
and the error table (:mod:`.answers`). A client is bound to its authenticator when it is made
(:meth:`SlackClient.with_auth`), so no caller passes a token or a rotation callback.
"""

from __future__ import annotations

import threading
import time
import typing as t
from dataclasses import dataclass

import requests

from tap_slack_snow.slack.answers import read_slack_response
from tap_slack_snow.slack.http import SlackHTTPSession
from tap_slack_snow.slack.retry import CallStats, RetryPolicy

T = t.TypeVar("T")


class RotatingAuth(t.Protocol):
    """A request authenticator whose token can be rotated when Slack says it expired."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Put the current token on ``request``."""

    def rotate_after_expiry(self) -> None:
        """Slack said ``token_expired`` for this thread's last request."""


@dataclass(frozen=True)
class SlackAnswer:
    """A successful Slack answer: the parsed payload, the response, and when it was sent."""

    payload: dict[str, t.Any]
    response: requests.Response
    sent_at: float


class _ThreadSessions:
    """One HTTP session per thread: ``requests.Session`` is not documented as thread-safe
    (its connection pool is; its cookie jar and adapters are not)."""

    def __init__(self, user_agent: str) -> None:
        self._user_agent = user_agent
        self._threads = threading.local()

    def get(self) -> requests.Session:
        http: requests.Session | None = getattr(self._threads, "http", None)
        if http is None:
            http = self._threads.http = SlackHTTPSession()  # never follows redirects
            http.headers["User-Agent"] = self._user_agent
        return http


class SlackClient:
    """Sends Slack calls under ``api_url`` (and SCIM reads under ``scim_url``) with one retry
    policy and (once bound) one token: the token goes to these two hosts only."""

    def __init__(
        self,
        *,
        api_url: str,
        retry: RetryPolicy,
        scim_url: str | None = None,
        timeout: float,
        user_agent: str = "tap-slack-snow",
        http: requests.Session | None = None,
        clock: t.Callable[[], float] = time.time,
    ) -> None:
        """Wire an unauthenticated client; nothing is sent until a call.

        ``http`` fixes one session for every thread (a test's, or the CLI's); by default each
        thread gets its own.
        """
        self.api_url = api_url.rstrip("/")
        self.scim_url = scim_url.rstrip("/") if scim_url else None
        self.retry = retry
        self.timeout = timeout
        self.clock = clock
        self._sessions = _ThreadSessions(user_agent)
        self._http = http
        self.auth: RotatingAuth | None = None

    def with_auth(self, auth: RotatingAuth) -> SlackClient:
        """The same client (connections, policy, deadlines) sending ``auth``'s token."""
        bound = SlackClient.__new__(SlackClient)
        bound.__dict__.update(self.__dict__)
        bound.auth = auth
        return bound

    @property
    def http(self) -> requests.Session:
        """The HTTP session of the calling thread."""
        return self._http if self._http is not None else self._sessions.get()

    def with_retries(
        self,
        label: str,
        attempt: t.Callable[[], T],
        stats: CallStats,
        *,
        rotates: bool = True,
        scim: bool = False,
    ) -> T:
        """Run ``attempt`` until it returns, by the retry policy (``token_expired`` rotates
        the bound token once, when the attempt sent it: ``rotates``; ``scim``: the attempt
        goes to ``scim_url``, named in the policy's lines)."""
        auth = self.auth if rotates else None
        return self.retry.call(
            label,
            attempt,
            stats,
            on_token_expired=auth.rotate_after_expiry if auth is not None else None,
            api_url=self.scim_url if scim and self.scim_url else self.api_url,
            setting="scim_url" if scim else "api_url",
        )

    def send(
        self,
        method: str,
        read: t.Callable[[requests.Response, float], T],
        *,
        http_method: str = "POST",
        params: dict[str, t.Any] | None = None,
        data: dict[str, t.Any] | None = None,
        stream: bool = False,
        stats: CallStats | None = None,
        label: str | None = None,
        auth: requests.auth.AuthBase | None = None,
        scim: bool = False,
    ) -> T:
        """Send ``method`` and hand each answer to ``read(response, sent_at)``, retrying.

        ``auth`` replaces the bound token for this call (the token refresh authenticates
        with the app's client id and secret instead). With ``scim``, ``method`` is a path
        under ``scim_url`` (``Users``), the only other host the token is sent to.

        ``read`` raises the error-table exceptions (see
        :func:`~tap_slack_snow.slack.answers.read_slack_response`) to have the attempt
        retried, or returns the result. With ``stream`` the body is read by ``read`` while
        the connection is open.
        """
        if scim and not self.scim_url:
            raise ValueError("this client has no scim_url")
        url = f"{self.scim_url if scim else self.api_url}/{method}"
        request_auth = auth if auth is not None else self.auth

        def attempt() -> T:
            sent_at = self.clock()
            with self.http.request(
                http_method,
                url,
                params=params,
                data=data,
                auth=request_auth,
                timeout=self.timeout,
                stream=stream,
            ) as response:
                return read(response, sent_at)

        return self.with_retries(
            label or method, attempt, stats or CallStats(), rotates=auth is None, scim=scim
        )

    def call(
        self,
        method: str,
        *,
        params: dict[str, t.Any] | None = None,
        data: dict[str, t.Any] | None = None,
        stats: CallStats | None = None,
        auth: requests.auth.AuthBase | None = None,
    ) -> SlackAnswer:
        """POST ``method`` and return its JSON answer (errors raised by the error table)."""

        def read(response: requests.Response, sent_at: float) -> SlackAnswer:
            return SlackAnswer(read_slack_response(response, method), response, sent_at)

        return self.send(method, read, params=params, data=data, stats=stats, auth=auth)
