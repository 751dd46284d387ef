#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: https_endpoint_info
short_description: Probe many HTTPS endpoints concurrently and explain what is wrong
version_added: 1.0.0
description:
  - Probes a list of endpoints concurrently inside one task (bounded thread pool) and tells for each one whether
    the port really serves good HTTPS, and if not, why.
  - "Checks, each selectable with O(checks): TCP reachability (V(open), V(closed), V(filtered), V(unresolvable)
    with connect latency); which of TLS 1.0, 1.1, 1.2 and 1.3 the server accepts (the default handshake, then
    one hand-built ClientHello per lower version, read up to the ServerHello or the refusal); the served
    certificate chain (trust decided by OpenSSL's path validation during the probe's own handshake against the
    system trust store or O(ca_path), explained certificate by certificate with C(cryptography)); revocation
    through CRL then OCSP; and HTTP (port 80 redirect to the https URL; on 443 the status of
    C(GET) O(http_path), a redirect to C(http://) and the HSTS header); and, on request, C(ciphers): per TLS version the
    cipher suites the server accepts, whether it enforces its own order, forward secrecy, the key exchange groups
    (including the post-quantum hybrid C(X25519MLKEM768)) and the finite-field Diffie-Hellman parameters, found with
    hand-built ClientHellos over plain sockets, so the result does not depend on what the local OpenSSL still
    allows."
  - The probe lowers the OpenSSL security level on its own TLS contexts only, so TLS 1.0 and 1.1 servers are
    detected even on controllers whose OpenSSL refuses them by default.
  - Every endpoint gets a RV(endpoints[].status) (V(ok), V(warning), V(critical)) and machine-readable
    RV(endpoints[].reasons) with an explanation and the likely fix. See the collection's C(docs/checks.md) for the
    list of reason codes.
  - "Runs wherever the task runs: on the controller (C(delegate_to: localhost), the outside view) or on a managed
    host (inside view). It never changes anything."
  - "On the controller (a C(local) connection, as with C(delegate_to: localhost), without C(become) and without
    C(async)) the probe runs inside the controller's own Ansible process, in the controller's Python, instead of being
    sent to the controller as a module: same options, same checks, same results, without the start-up of a module
    and the JSON round-trip of the results. Equal parts of the results (the same certificate, reasons or TLS versions
    of many endpoints) are then one Python object, which Ansible copies and sends once; the values are the same. With
    C(become) or C(async), and on any other host, the module runs as usual (with that host's Python)."
author:
  - port443.https contributors (@port443)
requirements:
  - cryptography >= 3.4 (for the C(certificate) and C(revocation) checks)
  - aioquic (optional, for the C(http3) check's comparison of the certificate chain served over QUIC)
extends_documentation_fragment:
  - port443.https._attributes
  - port443.https._attributes.info_module
  - port443.https._attributes.idempotent_not_modify_state
  - port443.https._policy
  - port443.https._ciphers
  - port443.https._client_cert
  - port443.https._attributes.checks_group
options:
  endpoints:
    description:
      - The endpoints to probe, in the order results are returned.
    type: list
    elements: dict
    required: true
    suboptions:
      host:
        description:
          - Host name or IP address. Also the name the certificate must match unless O(endpoints[].server_name) is set.
        type: str
        required: true
      port:
        description: TCP port of the HTTPS service.
        type: int
        default: 443
      server_name:
        description:
          - Name sent as SNI and verified against the certificate. Defaults to O(endpoints[].host).
        type: str
      address:
        description:
          - Connect to this IP address instead of resolving O(endpoints[].host), but still send and verify
            O(endpoints[].server_name) (like curl C(--resolve)).
        type: str
      http_port:
        description: Plain HTTP port checked for a redirect to the https URL by the C(http) check.
        type: int
        default: 80
      http_path:
        description:
          - Path requested over HTTPS by the C(http) check for this endpoint. Defaults to O(http_path).
        type: str
  checks:
    description:
      - Which checks to run. C(tcp) always runs because every other check needs a connection.
      - C(revocation) needs network access to the CA's CRL and OCSP URLs, so it is off by default.
      - C(ciphers) enumerates suites and groups the way sslyze and testssl.sh do (about 10 to 60 short connections per
        endpoint, each answered by the server's ClientHello processing only), so it is off by default. It reports
        C(weak_cipher), C(cbc_only), C(no_forward_secrecy), C(weak_dh), C(no_pq_kex) (with O(require_pq_kex)),
        C(profile_mismatch) (with O(tls_profile)) and C(cipher_enumeration_unknown) when the enumeration did not
        finish within the endpoint's time budget, the answers could not be read or contradict each other, or
        connections were closed or reset without an answer (a connection limiter; a close is never taken for a
        refusal unless the server repeats it while answering an offer it answered before).
      - Names behind one address and port that were served the same certificate are enumerated once; each other name
        confirms the result with a few ClientHellos and is enumerated in full when an answer differs (see
        RV(endpoints[].ciphers)).
      - C(http3) (not in the defaults; see RV(endpoints[].http3)) reads the C(Alt-Svc) header of the HTTPS answer (the
        same request as the C(http) check) and sends one QUIC packet with a reserved version to the UDP port (the
        C(h3) alternative's port on the same host, else O(endpoints[].port)), again after a third and two thirds of
        O(timeout); any QUIC server answers it with a Version Negotiation packet, which proves that UDP reaches it and
        lists its QUIC versions. No library is needed for that. Where the Python library C(aioquic) is importable on
        the probing host, a QUIC handshake (ALPN C(h3)) then reads the certificate chain served over QUIC and compares
        it with the TCP one; without C(aioquic) the result says that this comparison was not made.
      - "C(http3) reports C(h3_unreachable) (HTTP/3 advertised, nothing answers on UDP: the slow-fallback case),
        C(h3_versions) (only draft or vendor QUIC versions), C(h3_invalid_response) (the UDP answer is not QUIC) and
        C(h3_chain_differs) (another certificate over QUIC). When nothing advertises HTTP/3 and nothing answers on UDP
        there is no finding: the verdict is V(not_served), because no client tries HTTP/3 then."
    type: list
    elements: str
    choices: [tcp, tls_versions, certificate, revocation, http, ciphers, http3]
    default: [tcp, tls_versions, certificate, http]
  aia_fetch:
    description:
      - When a chain does not reach the trust store, follow the caIssuers URLs (C(http://) only, at most 3, within
        the endpoint's time budget) to tell a missing intermediate (C(incomplete_chain), with the URL in the fix)
        from a root the store does not know (C(untrusted_root)).
      - Never consulted for a chain the validator accepts, so healthy endpoints cost nothing extra.
    type: bool
    default: true
  timeout:
    description:
      - Timeout in seconds for each step of the probe of one endpoint (the name lookup, each connect, each handshake,
        each read).
      - The whole probe of one endpoint takes at most about twice this value, whatever the server does (slow,
        drip-feeding, stalling). Checks not finished by then get no verdict and the reason C(deadline_exceeded).
      - A name that does not resolve within this time is C(dns_timeout). Every address a name resolves to is tried
        in turn until one answers.
      - Resolution, connects and the check that something answers TLS run for all endpoints at once in one event loop,
        so endpoints that never answer cost about one timeout in total, however many there are.
    type: float
    default: 5
  workers:
    description:
      - Maximum number of endpoints whose TLS work (handshakes, version probes, certificate and HTTP checks) runs at the
        same time, each in its own thread.
      - Reachability does not use these threads (see O(timeout)), so dead endpoints do not occupy them.
      - The C(ciphers) check does not use them either. It runs for all endpoints in one event loop, at most four times
        this number of endpoints at once (one connection each).
      - At most 8 endpoints of one address and port (many names behind one server) run their TLS work, and at most 8
        are enumerated by the C(ciphers) check, at the same time; the others wait without spending their time budget.
    type: int
    default: 64
  min_tls_version:
    description:
      - Lowest acceptable TLS version. Accepting any lower version is reported as C(legacy_tls_enabled)
        (a V(warning), or V(critical) when no acceptable version is accepted at all).
    type: str
    choices: ['1.0', '1.1', '1.2', '1.3']
    default: '1.2'
  http_path:
    description:
      - Path the C(http) check requests with C(GET) over HTTPS (the answer's status, C(Location) and HSTS header are judged).
      - Must start with a single C(/) and be printable ASCII without spaces (percent-encode anything else).
      - O(endpoints[].http_path) overrides it per endpoint.
    type: str
    default: /
  http_expected_status:
    description:
      - HTTP statuses the HTTPS answer on the probed path may have. Any other status is C(http_error) (V(warning)).
      - When not set, any status below 400 is accepted and a 4xx/5xx answer is C(http_error).
      - Independently of this option, an HTTPS answer that redirects to an C(http://) URL is C(https_downgrade)
        (V(critical)), and no HTTP answer at all over TLS is C(http_error).
    type: list
    elements: int
  require_hsts:
    description: When V(true), a missing HSTS header (C(no_hsts)) is V(critical) instead of V(warning).
    type: bool
    default: false
  require_redirect:
    description: When V(true), a missing port 80 redirect (C(no_redirect)) is V(critical) instead of V(warning).
    type: bool
    default: false
  fail_on:
    description:
      - Fail the task when an endpoint reaches this status. The failure message lists the failing endpoints and
        the task still returns every result.
      - V(never) only reports.
    type: str
    choices: [critical, warning, never]
    default: never
notes:
  - "Revocation: a C(good) status is only reported from a CRL or OCSP response whose signature verifies; when no
    source answers the status is C(unknown). A stapled OCSP response is requested with the C(openssl) CLI
    (Python's C(ssl) module cannot) and reported in C(revocation.stapled); it is not verified, so it can only
    report a revocation, never make an unknown status good."
  - "Trust: C(certificate.trusted) is V(true) only when OpenSSL's path validation (the verdict Python, curl and most
    clients get) accepted the chain during the probe's handshake, with purpose C(sslserver), at security level 0
    (weak keys and digests are separate findings). The collection's own chain walker only explains a rejection:
    which certificate breaks which rule. A rejection it cannot explain is C(untrusted_chain) with OpenSSL's message."
  - "Python versions: the whole served chain is read on Python 3.10 and later. On Python 3.9 only the leaf can be
    read; the trust verdict still comes from OpenSSL, and the reason code from OpenSSL's error, with less detail."
seealso:
  - module: port443.https.certificate_file_info
  - plugin: port443.https.reason_explain
    plugin_type: filter
  - plugin: port443.https.endpoint_summary
    plugin_type: filter
  - plugin: port443.https.tls_at_least
    plugin_type: test
"""

EXAMPLES = r"""
---
- name: Audit public endpoints from the controller (the outside view)
  port443.https.https_endpoint_info:
    endpoints:
      - host: www.example.com
      - host: api.example.com
        port: 8443
      - host: www.example.com
        address: 192.0.2.10
    fail_on: critical
  delegate_to: localhost
  run_once: true
  register: audit

- name: Show the endpoints that are not ok
  ansible.builtin.debug:
    msg: "{{ item.host }}:{{ item.port }} {{ item.status }}: {{ item.reasons | map(attribute='code') | join(', ') }}"
  loop: "{{ audit.endpoints | rejectattr('status', 'equalto', 'ok') }}"
  loop_control:
    # Each endpoint result is kilobytes: print its address, not the whole item.
    label: "{{ item.host }}:{{ item.port }}"

- name: Check this host's own listener against an internal CA (inside view)
  port443.https.https_endpoint_info:
    endpoints:
      - host: 127.0.0.1
        server_name: "{{ inventory_hostname }}"
    ca_path: /etc/ssl/internal-ca.pem
    checks: [tcp, tls_versions, certificate]
    min_tls_version: '1.2'

- name: Check that the servers serve exactly Mozilla's intermediate profile of guideline 6.0
  port443.https.https_endpoint_info:
    endpoints:
      - host: www.example.com
      - host: legacy.example.com
    checks: [tcp, tls_versions, ciphers]
    tls_profile: intermediate
    tls_guideline: '6.0'
    tls_pq: false          # the servers run OpenSSL 3.0: no X25519MLKEM768 expected
    require_pq_kex: false
    fail_on: warning
  delegate_to: localhost
  run_once: true

- name: Check that the health page answers 200 over HTTPS (anything else is http_error)
  port443.https.https_endpoint_info:
    endpoints:
      - host: www.example.com
      - host: api.example.com
        http_path: /healthz
    http_path: /status
    http_expected_status: [200]
    fail_on: warning
  delegate_to: localhost
  run_once: true

- name: Check that HTTP/3 is served where it is advertised (UDP 443 open, a standard QUIC version, the same certificate)
  port443.https.https_endpoint_info:
    endpoints:
      - host: www.example.com
    checks: [tcp, tls_versions, certificate, http, http3]
    fail_on: critical   # h3_unreachable (advertised, UDP 443 dropped) is critical
  delegate_to: localhost
  run_once: true
  register: h3

- name: Show what each endpoint serves over HTTP/3
  ansible.builtin.debug:
    msg: "{{ item.host }}: {{ item.http3.verdict }} ({{ item.http3.udp.versions | default([], true) | map(attribute='name') | join(', ') }})"
  loop: "{{ h3.endpoints }}"
  loop_control:
    label: "{{ item.host }}:{{ item.port }}"

- name: Check a staff-only service with a client certificate issued by the internal CA
  port443.https.https_endpoint_info:
    endpoints:
      - host: staff.example.com
    ca_path: "{{ playbook_dir }}/pki/internal-ca.pem"
    client_cert: "{{ playbook_dir }}/pki/clients/monitor.crt"
    client_key: "{{ playbook_dir }}/pki/clients/monitor.key"
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
endpoints:
  description: One result per endpoint, in input order.
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The host as given.
      type: str
      returned: always
      sample: www.example.com
    port:
      description: The TCP port.
      type: int
      returned: always
      sample: 443
    server_name:
      description: The name sent as SNI and verified against the certificate.
      type: str
      returned: always
      sample: www.example.com
    address:
      description:
        - The IP address that answered (the first of the resolved addresses, tried in turn, that answered), or the
          address whose failure is reported when none answered; V(null) when the name did not resolve.
      type: str
      returned: always
      sample: 192.0.2.10
    status:
      description: The worst severity among RV(endpoints[].reasons).
      type: str
      returned: always
      sample: warning
    reasons:
      description: Findings, each with C(code), C(severity), C(message) and C(fix).
      type: list
      elements: dict
      returned: always
      sample:
        - code: no_hsts
          severity: warning
          message: The HTTPS response carries no Strict-Transport-Security header. (HTTPS status 200)
          fix: Send 'Strict-Transport-Security max-age=31536000' once HTTPS works everywhere.
    tcp:
      description:
        - TCP result with C(state) (V(open), V(closed), V(filtered), V(unresolvable), V(dns_timeout)), C(latency_ms)
          and C(error).
        - C(attempts) lists every address tried, in order, each as C(address), C(state) (V(open), V(closed),
          V(filtered)), C(latency_ms) and C(error) (for an open address that did not answer a TLS ClientHello, why).
      type: dict
      returned: always
      sample: {state: open, latency_ms: 0.21, error: null, attempts: [{address: 192.0.2.10, state: closed, latency_ms: 0.3,
               error: Connection refused}, {address: 192.0.2.11, state: open, latency_ms: 0.21, error: null}]}
    tls:
      description:
        - C(versions) maps V(1.0), V(1.1), V(1.2), V(1.3) to V(true) (accepted) or V(false) (refused); V(null) when not
          tested or unknown (no answer in time, reason C(tls_version_unknown), or no time left, C(deadline_exceeded));
          C(negotiated), C(cipher) and C(alpn) describe the default handshake; C(error) its failure.
        - C(client_cert_requested) is V(true) when the server asked for a client certificate in the default handshake
          (a staff-only service, see O(client_cert)), V(false) when it did not, V(null) when unknown.
      type: dict
      returned: always
      sample: {versions: {"1.0": false, "1.1": false, "1.2": true, "1.3": true}, negotiated: "1.3",
               cipher: TLS_AES_256_GCM_SHA384, alpn: h2, error: null, client_cert_requested: false}
    certificate:
      description:
        - Facts and verdicts about the served certificate (V(null) when there was no handshake or the check was off).
        - C(subject), C(issuer), C(common_name), C(serial), C(not_before), C(not_after), C(days_left),
          C(hours_left) (whole hours, for short-lived certificates), C(sans), C(key_type), C(key_size),
          C(signature_algorithm), C(is_ca), C(self_signed), C(fingerprint_sha256) of the leaf;
          C(trusted) (V(true) only when the path validator accepted the chain), C(verification) (V(trusted), or the
          reason code that explains the rejection, e.g. V(self_signed), V(untrusted_root), V(incomplete_chain),
          V(issuer_not_ca), V(path_length_exceeded), V(name_constraints_violated), V(unsuitable_purpose),
          V(issuer_key_usage), V(bad_signature), V(expired_intermediate), V(expired), V(untrusted_chain), V(unknown)),
          C(validator) (what the path validator said, with C(validator), C(ok), C(error_code), C(error), C(error_depth),
          C(detail)), C(chain_complete) (V(false) when only the leaf could be read, Python 3.9), C(trust_store),
          C(hostname_match), C(chain) (C(subject), C(issuer), C(serial), C(not_before), C(not_after),
          C(key_type), C(key_size), C(signature_algorithm), C(is_ca) of each served certificate, in served order)
          and C(path) (the subjects from the leaf to the trust anchor).
        - C(ct), the Signed Certificate Timestamps (Certificate Transparency) - C(scts) (each C(source), C(log_id),
          C(timestamp), C(future), C(log), C(operator), C(signature) - V(valid), V(invalid), V(unknown_log) or
          V(not_performed)), C(count), C(distinct_logs), C(required), C(satisfied), C(counted), C(future), C(errors),
          C(tls_extension) (V(sent), V(not_sent), V(unreadable) - what a TLS 1.2 ClientHello asking for SCTs got;
          V(not_requested) - not asked, because the chain is not publicly trusted or its embedded SCTs meet the rule),
          C(signatures) (V(not_performed) while no CT log list is carried), C(log_list),
          C(publicly_trusted) (the chain is trusted and its anchor is a root of Mozilla's program, read from
          C(public_roots); V(no_sct) and V(too_few_scts) are reported only when true) and C(public_roots).
      type: dict
      returned: always
      sample: {subject: CN=www.example.com, days_left: 60, trusted: true, hostname_match: true}
    revocation:
      description:
        - C(status) (V(good), V(revoked), V(unknown)), C(source) (V(crl), V(ocsp), V(stapled)), C(detail) and
          C(stapled) (C(present), C(status), C(detail); V(null) without the C(openssl) CLI), C(ocsp) (V(responder),
          V(none_by_design) for a certificate with a CRL and no OCSP responder, V(none)).
        - V(null) unless C(revocation) is in O(checks).
      type: dict
      returned: always
      sample: {status: good, source: crl, detail: not listed in http://crl.example.com/ca.crl, stapled: null}
    http:
      description:
        - C(redirect) (C(status), C(location), C(ok)) of a plain request to the HTTP port; C(path), the path requested
          over HTTPS; C(status) and C(location) (the C(Location) header, V(null) without one) of the HTTPS answer
          (both V(null) without a TLS handshake or an HTTP answer); and C(hsts) (C(present), C(max_age),
          C(include_subdomains), C(preload)).
        - V(null) unless C(http) is in O(checks).
      type: dict
      returned: always
      sample: {redirect: {status: 301, location: "https://www.example.com/", ok: true}, path: /, status: 200, location: null,
               hsts: {present: true, max_age: 31536000, include_subdomains: false, preload: false}}
    ciphers:
      description:
        - V(null) unless C(ciphers) is in O(checks).
        - C(versions) maps V(1.0), V(1.1), V(1.2), V(1.3) to C(suites) (the IANA names of the accepted suites, in the
          order the server chose them; empty when the version is refused) and C(server_order) (V(true) when the server
          enforces its own preference, V(false) when it follows the client's, V(null) with fewer than two suites;
          measured in TLS 1.3 and 1.2, TLS 1.0 and 1.1 take the TLS 1.2 verdict);
          a version is V(null) when its enumeration did not finish.
        - C(server_order) (any version enforces its order), C(forward_secrecy) (V(true) when every accepted suite has
          an ephemeral key exchange), C(groups) (per version, the IANA names of the accepted key exchange groups in the
          order the server chose them, for V(1.3), or for V(1.2) when the server does not accept TLS 1.3), C(dh) (for DHE suites, C(bits), C(prime),
          C(safe_prime), C(known_group), C(generator); V(null) without DHE), C(complete) (V(false) when any part did
          not finish; C(unknown) says which), C(handshakes) (ClientHellos sent for this endpoint).
        - C(same_as), only when present, names the endpoint (server name) of the same address, port and certificate
          whose full enumeration this result copies, because every answer to a fingerprint of it (first choice,
          declined rest and reversed order per version, the groups, the DH parameters) was the same.
        - C(certificate_key_types) (version_added 1.1.0) lists the key types of the certificates the server presents
          (V(ECDSA), V(RSA); both with dual certificates), found with one ClientHello per type that offers only its
          signature algorithms, in TLS 1.3 and 1.2; C(certificate_key_types_by_version) has them per version, V(null)
          where the answer was not conclusive.
      type: dict
      returned: always
      sample: {versions: {"1.0": {suites: [], server_order: null}, "1.1": {suites: [], server_order: null},
                          "1.2": {suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384],
                                  server_order: false},
                          "1.3": {suites: [TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, TLS_CHACHA20_POLY1305_SHA256],
                                  server_order: false}},
               server_order: false, forward_secrecy: true, groups: {"1.3": [X25519MLKEM768, x25519, secp256r1, secp384r1]},
               dh: null, certificate_key_types: [ECDSA, RSA],
               certificate_key_types_by_version: {"1.3": [ECDSA, RSA], "1.2": [ECDSA, RSA]}, complete: true, unknown: [],
               handshakes: 21}
    http3:
      description:
        - V(null) unless C(http3) is in O(checks), and when the TLS phase stopped before it (no TLS answer).
        - C(verdict) V(served) (a QUIC server answers with QUIC v1 or v2), V(old_versions) (draft or vendor versions
          only, C(h3_versions)), V(not_served) (nothing advertises HTTP/3 and nothing answers on UDP, no finding),
          V(unreachable) (advertised, and nothing answers, C(h3_unreachable)), V(invalid) (the UDP answer is not QUIC,
          C(h3_invalid_response)) or V(unknown) (no verdict for want of time, C(deadline_exceeded)).
        - C(advertised) (V(true) when the HTTPS answer's C(Alt-Svc) header lists C(h3) or a draft's C(h3-NN);
          V(null) without an HTTPS answer) and C(alt_svc) (C(present), C(clear), C(entries) each with C(protocol),
          C(host), C(port), C(max_age), C(persist); C(errors), the parts that are not alternatives; C(h3), the HTTP/3
          entries); C(port), the UDP port probed.
        - C(udp) (C(state) V(answered), V(invalid), V(refused) (ICMP port unreachable), V(silent) (no answer within
          O(timeout)) or V(error); C(versions), each with C(hex), C(name) (V(v1), V(v2), V(draft-29), V(reserved),
          V(other)) and C(kind) (V(standard), V(draft), V(reserved), V(other)); C(latency_ms); C(sent), the datagrams
          sent; C(error); C(answer), the first bytes of an invalid answer in hex).
        - C(handshake) (with C(aioquic) and a V(served) verdict; C(done), C(version), C(alpn), C(error),
          C(leaf_sha256), C(chain_length)), C(chain_compared), C(chain_same) (V(null) when not compared) and
          C(chain_note) (why the chain was not compared, or what differs).
      type: dict
      returned: always
      sample: {verdict: served, advertised: true, port: 443,
               alt_svc: {present: true, clear: false, errors: [],
                         entries: [{protocol: h3, host: null, port: 443, max_age: 86400, persist: false}],
                         h3: [{protocol: h3, host: null, port: 443, max_age: 86400, persist: false}]},
               udp: {state: answered, sent: 1, latency_ms: 0.61, error: null, answer: null,
                     versions: [{hex: "0x00000001", name: v1, kind: standard}, {hex: "0x6b3343cf", name: v2, kind: standard}]},
               handshake: {done: true, version: v1, alpn: h3, error: null, chain_length: 2,
                           leaf_sha256: 5f1c92123a78c6d0a3cbbd4e3f1c0e0c93f8a4f1fd1b3d9a6d4b2a0e7c9e8f11},
               chain_compared: true, chain_same: true, chain_note: null}
summary:
  description: Counts per status and per reason code.
  returned: always
  type: dict
  sample: {total: 3, ok: 1, warning: 1, critical: 1, by_reason: {no_hsts: 1, expired: 1}}
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.port443.https.plugins.module_utils.probe import _task


def main() -> t.NoReturn:
    module = AnsibleModule(argument_spec=_task.ARGUMENT_SPEC, supports_check_mode=True)
    missing = _task.missing_library(module.params)
    if missing:
        module.fail_json(msg=missing_required_lib(missing[0]), exception=missing[1])
    result = _task.result(module.params, run_command=lambda argv: module.run_command(argv, data="Q")[:2])
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
