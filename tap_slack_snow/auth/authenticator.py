"""The request authenticator: the current token in the Authorization header."""

from __future__ import annotations

import threading
import typing as t

import requests
from requests.auth import AuthBase
from typing_extensions import override

if t.TYPE_CHECKING:
    from tap_slack_snow.auth.providers import TokenProvider


class SlackAuthenticator(AuthBase):
    """Puts the current token in the Authorization header (never in a URL or body)."""

    def __init__(self, provider: TokenProvider) -> None:
        """Wrap a token provider."""
        self.provider = provider
        self._threads = threading.local()

    @property
    def last_token(self) -> str:
        """The token this thread's last request carried."""
        return str(getattr(self._threads, "token", ""))

    @override
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Authenticate one request (called again on every retry)."""
        token = self._threads.token = self.provider.current()
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def rotate_after_expiry(self) -> None:
        """Slack said ``token_expired`` for this thread's last request: rotate that token.

        Each thread sends one request at a time, so the last token handed out in this thread
        is the one rejected; the provider rotates only if no other thread already has.
        """
        self.provider.refresh_after_expiry(self.last_token)
