# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
from __future__ import annotations

import errno
import os

import pytest

from ansible_collections.port443.https.plugins.module_utils.host import _files


def test_read_bytes(tmp_path):
    path = tmp_path / "a.pem"
    path.write_bytes(b"data")
    assert _files.read_bytes("path", str(path)) == b"data"


def test_missing_file_parent_and_dangling_link(tmp_path):
    missing = str(tmp_path / "missing.pem")
    with pytest.raises(_files.FileReadError) as err:
        _files.read_bytes("ca_path", missing, "the CA bundle")
    assert str(err.value) == f"ca_path: the CA bundle {missing!r} does not exist"
    deeper = str(tmp_path / "no" / "such.pem")
    with pytest.raises(_files.FileReadError, match="does not exist \\(nor does its directory"):
        _files.read_bytes("path", deeper)
    link = tmp_path / "link.pem"
    os.symlink(missing, link)
    with pytest.raises(_files.FileReadError) as err:
        _files.read_bytes("path", str(link))
    assert str(err.value) == f"path: {str(link)!r} is a symbolic link to {missing!r}, which does not exist"


@pytest.mark.parametrize("exc, text", [
    (PermissionError(errno.EACCES, "Permission denied"), "is not readable by this user (permission denied)"),
    (IsADirectoryError(errno.EISDIR, "Is a directory"), "is a directory, not a file"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory"), "does not exist (a part of the path is not a directory)"),
    (OSError(errno.EIO, "Input/output error"), "cannot be read (Input/output error)"),
])
def test_why_unreadable(exc, text):
    assert _files.why_unreadable("/etc/x.pem", exc) == f"'/etc/x.pem' {text}"


def test_a_real_directory(tmp_path):
    with pytest.raises(_files.FileReadError) as err:
        _files.read_bytes("path", str(tmp_path))
    assert str(err.value) == f"path: {str(tmp_path)!r} is a directory, not a file"
