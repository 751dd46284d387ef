# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!

"""Reading a file the user named (a certificate, key, CA bundle or template), with an error that says what is wrong
with the path: it does not exist, it may not be read, it is a directory (plain Python, no Ansible imports)."""

from __future__ import annotations

import errno
import os


class FileReadError(ValueError):
    """The file cannot be read; the message names the option and the path."""


def why_unreadable(path: str, exc: OSError) -> str:
    """The reason an open or read of path failed, as a sentence part: "'/x' does not exist" and so on."""
    if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOENT:
        if os.path.islink(path):
            return f"{path!r} is a symbolic link to {os.readlink(path)!r}, which does not exist"
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent):
            return f"{path!r} does not exist (nor does its directory {parent!r})"
        return f"{path!r} does not exist"
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM):
        return f"{path!r} is not readable by this user (permission denied)"
    if isinstance(exc, IsADirectoryError) or exc.errno == errno.EISDIR:
        return f"{path!r} is a directory, not a file"
    if isinstance(exc, NotADirectoryError) or exc.errno == errno.ENOTDIR:
        return f"{path!r} does not exist (a part of the path is not a directory)"
    return f"{path!r} cannot be read ({exc.strerror or exc})"


def read_bytes(option: str, path: str, what: str = "") -> bytes:
    """The content of the file at path; FileReadError "OPTION: WHAT 'PATH' does not exist" (and so on) when it cannot
    be read. what names the file for the user ("the CA bundle"), or is empty."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise FileReadError(f"{option}: {what + ' ' if what else ''}{why_unreadable(path, exc)}") from None
