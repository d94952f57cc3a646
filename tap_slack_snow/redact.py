"""The safety net for secrets in logs: every log record is redacted, whoever logs it."""

from __future__ import annotations

import logging
import typing as t


class SecretRedactor:
    """Replaces known secret values in every log record, whoever logs it.

    Installed as the logging record factory, so it also covers the SDK's and requests'
    loggers. Secrets never reach a log line on purpose; this is the safety net.
    """

    _secrets: t.ClassVar[set[str]] = set()
    _installed: t.ClassVar[bool] = False

    @classmethod
    def add(cls, *values: str | None) -> None:
        """Register secret values (short values are ignored to avoid mangling text)."""
        cls._secrets.update(v for v in values if v and len(v) >= 6)
        cls._install()

    @classmethod
    def redact(cls, text: str) -> str:
        """Mask every registered secret in ``text``."""
        for secret in cls._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    @classmethod
    def _install(cls) -> None:
        if cls._installed:
            return
        cls._installed = True
        previous = logging.getLogRecordFactory()

        def factory(*args: t.Any, **kwargs: t.Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            if cls._secrets:
                try:
                    message = record.getMessage()
                except (TypeError, ValueError):
                    return record
                redacted = cls.redact(message)
                if redacted != message:
                    record.msg, record.args = redacted, None
            return record

        logging.setLogRecordFactory(factory)
