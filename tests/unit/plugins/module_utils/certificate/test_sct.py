# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The SCT list parser (RFC 6962 3.3) on well-formed and malformed input, and the browsers' count rule."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.port443.https.plugins.module_utils.certificate import _sct


def sct(log: int = 1, stamp: int = 1_700_000_000_000, ext: bytes = b"", sig: bytes = b"\x30\x00", version: int = 0) -> bytes:
    return bytes([version]) + bytes([log]) * 32 + stamp.to_bytes(8, "big") + len(ext).to_bytes(2, "big") + ext + b"\x04\x03" \
        + len(sig).to_bytes(2, "big") + sig


def sct_list(*items: bytes) -> bytes:
    body = b"".join(len(i).to_bytes(2, "big") + i for i in items)
    return len(body).to_bytes(2, "big") + body


def test_parses_a_list():
    parsed = _sct.parse_list(sct_list(sct(1), sct(2, ext=b"\x01\x02")))
    assert [p["log_id"] for p in parsed] == [b"\x01" * 32, b"\x02" * 32]
    assert parsed[0]["timestamp_ms"] == 1_700_000_000_000
    assert parsed[1]["extensions"] == b"\x01\x02"
    assert (parsed[0]["hash_algorithm"], parsed[0]["signature_algorithm"]) == (4, 3)


@pytest.mark.parametrize("data, message", [
    (b"", "truncated length of SCT list"),
    (b"\x00", "truncated length of SCT list"),
    (b"\x00\x00", "an empty SCT list"),
    (b"\x00\x05\x00", "truncated SCT list"),
    (sct_list(sct()) + b"\x00", "bytes after the SCT list"),
    (sct_list(b""), "an empty SCT"),
    (sct_list(sct(version=1)), "SCT version 1"),
    (sct_list(sct()[:20]), "truncated log id"),
    (sct_list(sct()[:40]), "truncated timestamp"),
    (sct_list(sct(sig=b"")), "without a signature"),
    (sct_list(sct() + b"\x00"), "bytes after the SCT's signature"),
    (sct_list(sct()[:-1]), "truncated signature"),
    (b"\x00\x03\x00\x05\x00", "truncated SCT"),
])
def test_malformed_lists_are_refused(data, message):
    with pytest.raises(_sct.SctError, match=message):
        _sct.parse_list(data)


@pytest.mark.parametrize("data", [b"", b"\x03\x01\x00", b"\x04\x81", b"\x04\x05abc", b"\x04\x85\x00\x00\x00\x00\x01a"])
def test_bad_extension_wrapping_is_refused(data):
    with pytest.raises(_sct.SctError):
        _sct._der_octet_string(data)  # pylint: disable=protected-access


class _Cert:
    """Enough of a certificate for the count rule."""

    def __init__(self, days: int) -> None:
        self.not_valid_before_utc = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
        self.not_valid_after_utc = self.not_valid_before_utc + datetime.timedelta(days=days)


@pytest.mark.parametrize("days, source, needed", [(90, "embedded", 2), (180, "embedded", 2), (181, "embedded", 3),
                                                  (398, "embedded", 3), (398, "tls_extension", 2), (6, "tls_extension", 2)])
def test_count_rule(days, source, needed):
    assert _sct.required(_Cert(days), source) == needed


def test_findings_only_for_public_certificates():
    section = {"count": 0, "errors": [], "tls_extension": "not_sent", "satisfied": False}
    assert _sct.findings(section, publicly_trusted=False) == []
    assert [c for c, _d in _sct.findings(section, publicly_trusted=True)] == ["no_sct"]


def test_public_roots_are_read_once_when_many_threads_ask_at_once(monkeypatch):
    """The probe's worker threads all ask at the start of a run: one of them reads the store, the others wait for it."""
    import threading
    import time

    reads = []

    def slow_read(key):
        reads.append(key)
        time.sleep(0.05)
        return frozenset({b"k"}), "/roots"

    monkeypatch.setattr(_sct, "_read_public_roots", slow_read)
    monkeypatch.setattr(_sct, "PUBLIC_ROOT_SOURCES", ["/roots-for-this-test"])
    monkeypatch.setattr(_sct, "_PUBLIC_ROOTS", {})
    found = []
    threads = [threading.Thread(target=lambda: found.append(_sct.public_roots())) for dummy in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reads) == 1 and found == [(frozenset({b"k"}), "/roots")] * 16
