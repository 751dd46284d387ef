# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Classification of client certificate demands from canned alerts and handshake messages."""

from __future__ import annotations

import ssl

import pytest

from ansible_collections.port443.https.plugins.module_utils.probe import _clientcert, _probe


def _alert(reason: str) -> ssl.SSLError:
    exc = ssl.SSLError(1, f"[SSL: {reason}] {reason.lower().replace('_', ' ')}")
    exc.reason = reason
    return exc


@pytest.mark.parametrize("reason, requested, presented, expected", [
    # TLS 1.3 certificate_required names the demand on its own, whatever was seen.
    ("TLSV13_ALERT_CERTIFICATE_REQUIRED", None, False, "alert certificate_required; none was presented"),
    ("TLSV13_ALERT_CERTIFICATE_REQUIRED", True, True, "although one was presented"),
    # TLS 1.2: handshake_failure after a CertificateRequest, and only then.
    ("SSLV3_ALERT_HANDSHAKE_FAILURE", True, False, "asked for a client certificate and ended the handshake with alert handshake_failure"),
    ("SSLV3_ALERT_HANDSHAKE_FAILURE", True, True, "refused the presented one with alert handshake_failure"),
    ("SSLV3_ALERT_HANDSHAKE_FAILURE", False, False, None),
    ("SSLV3_ALERT_HANDSHAKE_FAILURE", None, False, None),
    # Certificate alerts: about the client's certificate when one was presented or asked for.
    ("TLSV1_ALERT_UNKNOWN_CA", None, True, "refused the presented client certificate with alert unknown_ca"),
    ("SSLV3_ALERT_BAD_CERTIFICATE", True, False, "alert bad_certificate; none was presented"),
    ("SSLV3_ALERT_CERTIFICATE_EXPIRED", False, True, "alert certificate_expired"),
    ("TLSV1_ALERT_UNKNOWN_CA", False, False, None),
    # Other failures are not about client certificates.
    ("TLSV1_ALERT_PROTOCOL_VERSION", True, True, None),
    ("WRONG_VERSION_NUMBER", True, False, None),
])
def test_refusal(reason, requested, presented, expected):
    text = _clientcert.refusal(_alert(reason), requested, presented)
    if expected is None:
        assert text is None
    else:
        assert text is not None and expected in text, text


def test_refusal_ignores_non_tls_errors():
    assert _clientcert.refusal(ConnectionResetError(104, "reset"), True, False) is None
    assert _clientcert.refusal(TimeoutError(), True, True) is None


def test_callback_records_certificate_request_and_ticket():
    _clientcert.begin(True)
    assert _clientcert.requested() is False
    _clientcert._callback(None, "write", None, 22, 13, b"")  # our own messages do not count
    _clientcert._callback(None, "read", None, 23, 13, b"")  # not a handshake message
    assert _clientcert.requested() is False
    _clientcert._callback(None, "read", None, 22, 13, b"")
    assert _clientcert.requested() is True
    _clientcert.begin(False)
    assert _clientcert.requested() is None  # not watched: unknown, never "not requested"


def test_watch_installs_the_callback():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    assert _clientcert.watch(ctx) is True
    assert ctx._msg_callback is _clientcert._callback  # pylint: disable=protected-access


def test_options_both_or_neither():
    assert _clientcert.check_files(None, None) is None
    assert "give both" in _clientcert.check_files("/a.crt", None)
    assert "give both" in _clientcert.check_files(None, "/a.key")


def test_probe_validate_names_the_option(tmp_path):
    params = {"endpoints": [{"host": "example.com"}], "client_cert": str(tmp_path / "missing.crt"), "client_key": str(tmp_path / "k")}
    with pytest.raises(_probe.ProbeInputError, match="^client_cert: .*missing.crt. does not exist$"):
        _probe.validate(params)
    (tmp_path / "bad.crt").write_text("not a certificate\n")
    (tmp_path / "bad.key").write_text("not a key\n")
    params.update(client_cert=str(tmp_path / "bad.crt"), client_key=str(tmp_path / "bad.key"))
    with pytest.raises(_probe.ProbeInputError, match="^client_cert, client_key: .* are not a PEM certificate"):
        _probe.validate(params)
    _endpoints, opts = _probe.validate({"endpoints": [{"host": "example.com"}]})
    assert _probe.Settings(opts).client_cert is None
