# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The webserver role's verification verdict (port443.https.webserver_verify_problems) on what a real nginx serves,
probed as the role probes it (https_endpoint_info with the checks tcp, tls_versions, certificate, http and ciphers,
its argument spec and result function): a site served as the role renders Mozilla's intermediate profile, with the
redirect and HSTS, matches. One that turns TLS 1.2 off, one without HSTS, and one behind a connection limiter that
stalls after a few connections (versions and suites never answered) do not; the limiter's verdict names what could
not be known, never a match. openssl s_client is the oracle of what each server accepts."""

from __future__ import annotations

import subprocess

import pki
import pytest
from conftest import free_port, local_curves, start_nginx, wait_listening
from limiter import LimitingProxy

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.port443.https.plugins.module_utils.probe import _task
from ansible_collections.port443.https.plugins.module_utils.profiles import _mozilla_guidelines
from ansible_collections.port443.https.plugins.module_utils.webserver import _verify

MOZ = _mozilla_guidelines.GUIDELINES["6.0"]["configurations"]["intermediate"]
NAME = "www.verify.test"
VHOST = {"name": "www", "server_names": [NAME], "tls_ready": True, "tls_profile": "intermediate", "hsts_max_age": 63072000,
         "client_ca": "", "client_verify": "required"}


def site(lab, label: str, protocols: str, hsts: bool = True, https_port: int | None = None,
         redirect_port: int | None = None) -> tuple[int, int]:
    """nginx serving NAME over HTTPS (the intermediate suites and groups, `protocols`) and redirecting plain HTTP to
    https://NAME:redirect_port/. (https port, http port)."""
    https_port, http_port = https_port or free_port(), free_port()
    leaf = pki.issue(NAME, issuer=lab.inter)
    server = {"names": [NAME], "cert": lab.write(f"{label}.crt", leaf.pem + lab.inter.pem),
              "key": lab.write(f"{label}.key", leaf.key_pem), "protocols": protocols,
              "ciphers": ":".join(MOZ["ciphers"]["openssl"]),
              "curves": local_curves(MOZ["tls_curves"]),
              "extra": 'add_header Strict-Transport-Security "max-age=63072000" always;' if hsts else ""}
    redirect = f"""
  server {{
    listen 127.0.0.1:{http_port};
    server_name {NAME};
    return 301 https://$host:{redirect_port or https_port}$request_uri;
  }}"""
    proc, _port = start_nginx(lab.tmp, label, [server], port=https_port, blocks=[redirect])
    lab.procs.append(proc)
    wait_listening("127.0.0.1", https_port)
    wait_listening("127.0.0.1", http_port)
    return https_port, http_port


def verdict(lab, https_port: int, http_port: int) -> tuple[list[str], dict]:
    """The role's probe of NAME at 127.0.0.1 (one TLS profile), then the verdict on its results."""
    params = ArgumentSpecValidator(_task.ARGUMENT_SPEC).validate({
        "endpoints": [{"host": NAME, "address": "127.0.0.1", "port": https_port, "http_port": http_port}],
        "checks": ["tcp", "tls_versions", "certificate", "http", "ciphers"], "ca_path": lab.ca_path,
        "tls_profile": "intermediate", "tls_guideline": "6.0", "tls_pq": False, "timeout": 2}).validated_parameters
    result = _task.result(params, run_command=None)
    assert not result.get("failed"), result
    return _verify.served_problems([VHOST], [dict(result, item="intermediate")], [], guideline="6.0"), result["endpoints"][0]


def accepts(port: int, version: str) -> bool:
    """openssl s_client: does the server at 127.0.0.1:port finish a handshake of this TLS version?"""
    proc = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", NAME,
                           f"-tls{version.replace('.', '_')}"], input="Q\n", capture_output=True, text=True, check=False,
                          timeout=20)
    return proc.returncode == 0


def test_the_site_as_the_role_renders_it_matches(lab):
    https_port, http_port = site(lab, "verify_match", "TLSv1.2 TLSv1.3")
    assert [accepts(https_port, v) for v in ("1.1", "1.2", "1.3")] == [False, True, True]
    problems, endpoint = verdict(lab, https_port, http_port)
    assert problems == [], endpoint["reasons"]


def test_tls_1_2_turned_off_is_named(lab):
    https_port, http_port = site(lab, "verify_tls13", "TLSv1.3")
    assert [accepts(https_port, v) for v in ("1.2", "1.3")] == [False, True]
    problems, _endpoint = verdict(lab, https_port, http_port)
    assert len(problems) == 1 and "TLS 1.2 refused (profile intermediate wants 1.2, 1.3)" in problems[0], problems


def test_missing_hsts_is_named(lab):
    https_port, http_port = site(lab, "verify_nohsts", "TLSv1.2 TLSv1.3", hsts=False)
    problems, _endpoint = verdict(lab, https_port, http_port)
    assert len(problems) == 1 and "HSTS max-age=63072000 configured" in problems[0], problems
    assert "TLS" not in problems[0].split("reasons:")[0], problems


@pytest.mark.parametrize("allow", [1, 3, 6])
def test_a_limiter_that_stalls_is_never_a_match(lab, allow):
    """The limiter forwards the first `allow` connections, then holds every new one unanswered: the probe cannot
    tell some versions or suites. The verdict names them as not known (or the unfinished enumeration), never []."""
    upstream = free_port()
    proxy = LimitingProxy(("127.0.0.1", upstream), "stall", allow)
    try:
        _https, http_port = site(lab, f"verify_stall_{allow}", "TLSv1.2 TLSv1.3", https_port=upstream,
                                 redirect_port=proxy.port)
        problems, endpoint = verdict(lab, proxy.port, http_port)
    finally:
        proxy.close()
    assert len(problems) == 1, problems
    assert "not known" in problems[0] or "The cipher suite enumeration did not finish" in problems[0], (problems, endpoint)
