"""The request authenticator: the current token in the Authorization header."""

from __future__ import annotations

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
        self.last_token = ""

    @override
    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Authenticate one request (called again on every retry)."""
        self.last_token = self.provider.current()
        request.headers["Authorization"] = f"Bearer {self.last_token}"
        return request

    def rotate_after_expiry(self) -> None:
        """Slack said ``token_expired`` for the last request: rotate that token.

        Requests are sent one at a time, so the last token handed out is the one rejected
        (concurrent requests will need the rejected token passed in instead).
        """
        self.provider.refresh_after_expiry(self.last_token)
