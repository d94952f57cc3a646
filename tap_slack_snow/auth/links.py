"""Symbolic links to the private files the project writes (the token store, rescue files, the
OAuth state file, a .env): followed, never replaced.

A container commonly points a file setting at a mounted volume through a link
(``/app/tokens.json -> /data/tokens.json``). An atomic write *at the link* (a temp file and a
rename in the link's folder) would replace the link by a regular file, and the volume would
keep the spent token chain. So every write goes to the file the link names, atomically in
*that* file's folder, and the link stays; a lock goes beside that file too, so two links to
one file share one lock. A link that names no file (dangling: the volume is not mounted) or
that loops is refused: a file written anywhere else would be lost with the container.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


class BrokenLinkError(OSError):
    """A symbolic link that names no file, or a loop of links.

    ``strerror`` says which in words (``a symbolic link to X, which does not exist``);
    ``filename`` is the path given; ``target`` the file the link names (dangling only).
    """

    def __init__(self, code: int, reason: str, path: Path, target: Path | None = None) -> None:
        """Keep the path, the reason and the missing target."""
        super().__init__(code, reason, str(path))
        self.target = target


def follow_links(path: Path) -> Path:
    """The file ``path`` names once its symbolic links are followed (itself when it holds
    none); a path that does not exist yet, and is no link, is returned as it is.

    Raises:
        BrokenLinkError: ``path`` is a link to a file that does not exist, or a loop.
    """
    try:
        os.stat(path)
    except FileNotFoundError:
        if not os.path.islink(path):
            return path  # a new file (the store's first write)
        target = Path(os.path.realpath(path))
        raise BrokenLinkError(
            errno.ENOENT, f"a symbolic link to {target}, which does not exist", path, target
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BrokenLinkError(errno.ELOOP, "a loop of symbolic links", path) from None
        return path  # unreadable: the read or write that follows says why
    return Path(os.path.realpath(path))


def describe_broken_link(exc: BrokenLinkError, setting: str) -> str:
    """``<setting> <path> is <what is wrong>: <the fix>``, one line."""
    if exc.target is not None:
        fix = (
            "is the volume it is on mounted? Mount it, or create the file there "
            f"(touch {exc.target}), or point {setting} at a regular file"
        )
    else:
        fix = f"fix the link, or point {setting} at a regular file"
    return f"{setting} {exc.filename} is {exc.strerror}: {fix}"
