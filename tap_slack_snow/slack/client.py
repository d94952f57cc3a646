"""One way to call any Slack method: :class:`SlackCaller` and its answer.

:class:`SlackCaller` sends one Slack call with the retry policy and reads the answer by the
error table: every request the project builds by hand (the token refresh, the analytics
download, the CLI's code exchange, auth.test and the other calls outside a stream) goes
through it.
"""

from __future__ import annotations

import time
import typing as t
from dataclasses import dataclass

import requests

from tap_slack_snow.slack.answers import read_slack_response
from tap_slack_snow.slack.retry import CallStats, RetryPolicy

T = t.TypeVar("T")


@dataclass(frozen=True)
class SlackAnswer:
    """A successful Slack answer: the parsed payload, the response, and when it was sent."""

    payload: dict[str, t.Any]
    response: requests.Response
    sent_at: float


class SlackCaller:
    """Sends Slack calls under ``api_url`` with one HTTP session and one retry policy."""

    def __init__(
        self,
        *,
        api_url: str,
        http: requests.Session | t.Callable[[], requests.Session],
        retry: RetryPolicy,
        timeout: float,
        clock: t.Callable[[], float] = time.time,
    ) -> None:
        """Wire the caller; nothing is sent until a call.

        ``http`` is a session, or a function giving the calling thread's session.
        """
        self.api_url = api_url.rstrip("/")
        self._http = http
        self.retry = retry
        self.timeout = timeout
        self.clock = clock

    @property
    def http(self) -> requests.Session:
        """The HTTP session of the calling thread."""
        http = self._http
        return http if isinstance(http, requests.Session) else http()

    def with_retries(
        self,
        label: str,
        attempt: t.Callable[[], T],
        stats: CallStats,
        *,
        on_token_expired: t.Callable[[], None] | None = None,
    ) -> T:
        """Run ``attempt`` until it returns, by the retry policy (also for the SDK's sends)."""
        return self.retry.call(
            label, attempt, stats, on_token_expired=on_token_expired, api_url=self.api_url
        )

    def send(
        self,
        method: str,
        read: t.Callable[[requests.Response, float], T],
        *,
        auth: requests.auth.AuthBase | None,
        http_method: str = "POST",
        params: dict[str, t.Any] | None = None,
        data: dict[str, t.Any] | None = None,
        stream: bool = False,
        stats: CallStats | None = None,
        on_token_expired: t.Callable[[], None] | None = None,
        label: str | None = None,
    ) -> T:
        """Send ``method`` and hand each answer to ``read(response, sent_at)``, retrying.

        ``read`` raises the error-table exceptions (see :func:`read_slack_response`) to
        have the attempt retried, or returns the result. With ``stream`` the body is read
        by ``read`` while the connection is open.
        """
        url = f"{self.api_url}/{method}"

        def attempt() -> T:
            sent_at = self.clock()
            with self.http.request(
                http_method,
                url,
                params=params,
                data=data,
                auth=auth,
                timeout=self.timeout,
                stream=stream,
            ) as response:
                return read(response, sent_at)

        return self.with_retries(
            label or method, attempt, stats or CallStats(), on_token_expired=on_token_expired
        )

    def call(
        self,
        method: str,
        *,
        auth: requests.auth.AuthBase | None,
        params: dict[str, t.Any] | None = None,
        data: dict[str, t.Any] | None = None,
        stats: CallStats | None = None,
        on_token_expired: t.Callable[[], None] | None = None,
    ) -> SlackAnswer:
        """POST ``method`` and return its JSON answer (errors raised by the error table)."""

        def read(response: requests.Response, sent_at: float) -> SlackAnswer:
            return SlackAnswer(read_slack_response(response, method), response, sent_at)

        return self.send(
            method,
            read,
            auth=auth,
            params=params,
            data=data,
            stats=stats,
            on_token_expired=on_token_expired,
        )
