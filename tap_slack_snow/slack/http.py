"""The HTTP session every Slack request goes through: no redirects, a deadline per request.

- **No redirects.** Slack's Web API never redirects. ``requests`` would follow a 307/308
  with the same body (a refresh token and the client secret included) to whatever host the
  ``Location`` names, and a 301/302 as a GET. Here a 3xx is handed back as it is, and
  :func:`tap_slack_snow.slack.retry.read_slack_response` turns it into one line naming the
  status and the host: nothing is ever sent to a host other than ``api_url``'s.
- **A deadline on the whole answer.** ``requests``' ``timeout`` bounds each socket read, so
  a body trickling a byte a second never times out. The body is read here in pieces as
  they arrive and the request fails with a timeout once ``timeout`` seconds have passed
  since it was sent; streamed downloads (the analytics files) are bounded the same way.
  A read already waiting may add up to one more ``timeout``, so the bound is at most twice
  ``request_timeout``.
"""

from __future__ import annotations

import time
import typing as t

import requests
from typing_extensions import override

#: Bytes asked for per read of a body (a read returns as soon as any bytes are there).
READ_SIZE = 1 << 16


class SlackHTTPSession(requests.Session):
    """A ``requests.Session`` that never follows redirects and bounds each whole request."""

    @override
    def get_redirect_target(self, resp: requests.Response) -> str | None:
        """Never follow a redirect: the 3xx answer is read (and refused) by the caller."""
        return None

    @override
    def send(self, request: requests.PreparedRequest, **kwargs: t.Any) -> requests.Response:
        """Send with the body read under a deadline of ``timeout`` seconds from now."""
        timeout = kwargs.get("timeout")
        seconds = timeout if isinstance(timeout, int | float) and timeout > 0 else None
        if seconds is None:
            return super().send(request, **kwargs)
        deadline = time.monotonic() + seconds
        wants_stream = bool(kwargs.get("stream"))
        response = super().send(request, **{**kwargs, "stream": True})
        response.raw = _DeadlineBody(response.raw, deadline, seconds)
        if not wants_stream:
            try:
                _ = response.content  # read now, as requests would, but under the deadline
            except BaseException:
                response.close()
                raise
        return response


class _DeadlineBody:
    """Stands in for urllib3's response while ``requests`` reads the body.

    ``requests`` reads bodies through ``raw.stream()``; this one reads with ``read1`` (which
    returns whatever has arrived instead of waiting for a full chunk) and checks the
    deadline between reads. Everything else is the real response's.
    """

    def __init__(self, raw: t.Any, deadline: float, seconds: float) -> None:
        self._raw = raw
        self._deadline = deadline
        self._seconds = seconds

    def stream(
        self, amt: int | None = READ_SIZE, decode_content: bool | None = None
    ) -> t.Iterator[bytes]:
        """The body's bytes as they arrive; a ReadTimeout once the deadline has passed."""
        while True:
            if time.monotonic() > self._deadline:
                self._raw.close()  # the connection is mid-answer: never reuse it
                raise requests.exceptions.ReadTimeout(
                    f"no complete answer within {self._seconds:g} s (request_timeout)"
                )
            data = self._raw.read1(amt or READ_SIZE, decode_content=decode_content)
            if not data:
                return
            yield data

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self._raw, name)
