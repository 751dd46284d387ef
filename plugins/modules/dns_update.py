#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dns_update
short_description: Publish or remove TXT records through RFC 2136 dynamic updates signed with TSIG
version_added: 1.0.0
description:
  - Adds or removes exact TXT values (for example C(_acme-challenge) records of an ACME DNS-01 order) with RFC 2136
    dynamic updates signed with a TSIG key (RFC 8945), the standard BIND, Knot and PowerDNS speak.
  - Only the values listed are touched. Removing deletes exactly those values, never a whole record set, so records
    that others published next to them stay.
  - With O(wait=true) the module then queries every authoritative server of the zone (its NS records) directly until
    each one answers with the values (V(present)) or without them (V(absent)), within O(wait_timeout) seconds.
  - O(state=probe) checks that the key may update the zone with a harmless update and delete of a random value at
    the first record's name. It changes nothing in the end and also runs in check mode.
  - Plain Python, no dnspython. Updates and queries go over UDP, over TCP when an answer is truncated.
author:
  - port443.https contributors (@port443)
extends_documentation_fragment:
  - port443.https._attributes
  - port443.https._attributes.idempotent
attributes:
  check_mode:
    support: full
    details:
      - In check mode the module reads which values are missing or present and sends no update (except
        O(state=probe), whose update is undone at once).
  diff_mode:
    support: none
options:
  records:
    description: TXT records, each a name and the values that must be present or absent.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Fully qualified name of the record, for example C(_acme-challenge.www.example.com).
        type: str
        required: true
      values:
        description: TXT values (each one string of up to a few hundred characters).
        type: list
        elements: str
        default: []
  state:
    description: V(present) adds missing values, V(absent) removes listed values, V(probe) tests the key.
    type: str
    choices: [present, absent, probe]
    default: present
  server:
    description:
      - Server that takes the updates (host name or IP address), normally the zone's primary.
      - Default is the primary named in the zone's SOA record (its MNAME), as C(nsupdate) does.
    type: str
  resolver:
    description:
      - Server that the zone, its SOA and its NS records are looked up at.
      - Default is O(server) when given, else the first C(nameserver) of C(/etc/resolv.conf).
    type: str
  port:
    description: UDP/TCP port of O(server), O(resolver) and the authoritative servers.
    type: int
    default: 53
  zone:
    description: Zone of the records. Default is the closest enclosing zone found by SOA queries at O(resolver).
    type: str
  key_name:
    description: Name of the TSIG key. Required unless O(publish=false).
    type: str
  key_secret:
    description: Base64 secret of the TSIG key (the C(secret) of the C(key) statement that C(tsig-keygen) prints).
    type: str
  key_algorithm:
    description: HMAC algorithm of the TSIG key.
    type: str
    choices: [hmac-md5, hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512]
    default: hmac-sha256
  ttl:
    description: TTL of added records, in seconds.
    type: int
    default: 60
  publish:
    description:
      - Send the update. V(false) only waits for the authoritative servers, for records that a task file of the
        user published through a provider's API.
    type: bool
    default: true
  wait:
    description: Wait until every authoritative server answers with (or without) the values.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the authoritative servers before failing.
    type: int
    default: 120
  wait_interval:
    description: Seconds between two rounds of queries while waiting.
    type: float
    default: 2
  check_servers:
    description:
      - Addresses of the servers to wait for, instead of the zone's NS records (for example hidden primaries
        or servers that are only reachable under another address).
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for one DNS answer (each query is tried twice).
    type: float
    default: 5
notes:
  - The zone's update policy should allow the key TXT records only, best only the C(_acme-challenge) records of the
    names it orders (a wildcard name C(*.example.com) uses C(_acme-challenge.example.com)), for example in BIND
    C(update-policy { grant acme-key name _acme-challenge.example.com. TXT; grant acme-key name
    _acme-challenge.www.example.com. TXT; };). BIND refuses C(wildcard _acme-challenge.*.example.com.), as a
    wildcard name must start with C(*). See the collection's docs/certificates-dns.md.
seealso:
  - module: port443.https.acme_preflight_info
"""

EXAMPLES = r"""
---
- name: Publish an ACME challenge and wait for every authoritative server
  port443.https.dns_update:
    server: ns1.example.com
    key_name: acme-key
    key_secret: "{{ vault_acme_tsig_secret }}"
    records:
      - name: _acme-challenge.www.example.com
        values: [gq2f3Yt-Zq2cTqE2-U7bUOmN4h9QFoOG2uCJ4o7ZkP0]

- name: Remove it again
  port443.https.dns_update:
    server: ns1.example.com
    key_name: acme-key
    key_secret: "{{ vault_acme_tsig_secret }}"
    state: absent
    records:
      - name: _acme-challenge.www.example.com
        values: [gq2f3Yt-Zq2cTqE2-U7bUOmN4h9QFoOG2uCJ4o7ZkP0]

- name: Check that the key may update the zone (before asking a CA)
  port443.https.dns_update:
    server: ns1.example.com
    key_name: acme-key
    key_secret: "{{ vault_acme_tsig_secret }}"
    state: probe
    records:
      - name: _acme-challenge.www.example.com
"""

RETURN = r"""
zones:
  description: Per zone, the server that took the updates and what was added or removed.
  returned: always
  type: list
  elements: dict
  sample: [{zone: example.com, server: 192.0.2.53, added: [[_acme-challenge.www.example.com, token]], removed: []}]
checked:
  description: The authoritative servers waited for, as C(name (address)).
  returned: always
  type: list
  elements: str
  sample: ["ns1.example.com (192.0.2.53)"]
waited:
  description: Seconds spent waiting for the authoritative servers.
  returned: always
  type: float
  sample: 2.1
"""

import time
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.port443.https.plugins.module_utils.certificate import _dns


def run(params: dict[str, t.Any], client: _dns.Client, check_mode: bool, sleep=time.sleep) -> dict[str, t.Any]:
    """Apply params; _dns.DNSError or ValueError carry the one message to fail with."""
    state, port = params["state"], params["port"]
    wanted: dict[str, list[str]] = {}
    for index, rec in enumerate(params["records"]):
        if not _dns.valid_name(rec["name"]):
            raise ValueError(f"records[{index}].name {rec['name']!r} is not a DNS name")
        if state != "probe" and not rec["values"]:
            raise ValueError(f"records[{index}].values is empty")
        wanted.setdefault(_dns.absolute(rec["name"]), [])
        wanted[_dns.absolute(rec["name"])] += [v for v in rec["values"] if v not in wanted[_dns.absolute(rec["name"])]]
    if not wanted:
        raise ValueError("records is empty")
    key = None
    if params["publish"]:
        if not params["key_name"] or not params["key_secret"]:
            raise ValueError("key_name and key_secret are required to publish (or set publish=false)")
        try:
            key = _dns.make_key(params["key_name"], params["key_secret"], params["key_algorithm"])
        except ValueError as exc:
            raise ValueError(f"key_secret/key_name/key_algorithm: {exc}") from None
    resolver = _dns.resolve_host(params["resolver"] or params["server"] or _dns.system_resolvers()[0])

    # Group the names by zone: a multi-name certificate may span zones.
    zones: dict[str, dict[str, t.Any]] = {}
    for name in wanted:
        if params["zone"]:
            zone = _dns.absolute(params["zone"])
            if name != zone and not name.endswith("." + zone):
                raise ValueError(f"zone {zone!r} does not hold the record {name}")
            primary = None
        else:
            zone, primary = client.find_zone(resolver, name, port)
        entry = zones.setdefault(zone, {"zone": zone, "names": [], "primary": primary})
        entry["names"].append(name)
    result: dict[str, t.Any] = {"changed": False, "zones": [], "checked": [], "waited": 0.0}
    for zone, entry in zones.items():
        if params["server"]:
            address = _dns.resolve_host(params["server"])
        else:
            address = _resolve_primary(client, resolver, entry["primary"] or client.find_zone(resolver, zone, port)[1], port)
        report: dict[str, t.Any] = {"zone": zone, "server": address, "added": [], "removed": []}
        result["zones"].append(report)
        if not params["publish"]:
            continue
        if state == "probe":
            value = _dns.probe_value()
            name = entry["names"][0]
            client.update(address, zone, key, [(name, value, params["ttl"])], [], port)
            client.update(address, zone, key, [], [(name, value)], port)
            continue
        served = {name: set(client.txt(address, name, port)) for name in entry["names"]}
        if state == "present":
            report["added"] = [[n, v] for n in entry["names"] for v in wanted[n] if v not in served[n]]
        else:
            report["removed"] = [[n, v] for n in entry["names"] for v in wanted[n] if v in served[n]]
        if report["added"] or report["removed"]:
            result["changed"] = True
            if not check_mode:
                client.update(address, zone, key, [(n, v, params["ttl"]) for n, v in report["added"]],
                              [tuple(pair) for pair in report["removed"]], port)
    if state == "probe" or not params["wait"] or (check_mode and params["publish"]):
        return result
    started = time.monotonic()
    deadline = started + params["wait_timeout"]
    for zone, entry in zones.items():
        if params["check_servers"]:
            servers = [(addr, _dns.resolve_host(addr)) for addr in params["check_servers"]]
        else:
            servers = _dns.authoritative_servers(client, resolver, zone, port)
        result["checked"] += [f"{ns} ({addr})" for ns, addr in servers]
        subset = {n: wanted[n] for n in entry["names"]}
        while True:
            lagging = _dns.pending(client, servers, subset, state == "present", port)
            if not lagging:
                break
            if time.monotonic() + params["wait_interval"] > deadline:
                raise _dns.DNSError(
                    f"after {params['wait_timeout']} s (wait_timeout) not every authoritative server of {zone} answers "
                    f"as expected: {'; '.join(lagging)}")
            sleep(params["wait_interval"])
    result["waited"] = round(time.monotonic() - started, 1)
    return result


def _resolve_primary(client: _dns.Client, resolver: str, primary: str, port: int) -> str:
    """The SOA MNAME's address: from the resolver that knows the zone, else the system resolver."""
    try:
        found = client.addresses(resolver, primary, port)
    except _dns.DNSError:
        found = []
    return found[0] if found else _dns.resolve_host(primary)


def main() -> t.NoReturn:
    module = AnsibleModule(
        argument_spec={
            "records": {"type": "list", "elements": "dict", "required": True, "options": {
                "name": {"type": "str", "required": True},
                "values": {"type": "list", "elements": "str", "default": [], "no_log": False},
            }},
            "state": {"type": "str", "choices": ["present", "absent", "probe"], "default": "present"},
            "server": {"type": "str"},
            "resolver": {"type": "str"},
            "port": {"type": "int", "default": 53},
            "zone": {"type": "str"},
            "key_name": {"type": "str", "no_log": False},
            "key_secret": {"type": "str", "no_log": True},
            "key_algorithm": {"type": "str", "default": "hmac-sha256", "choices": sorted(_dns.ALGORITHMS)},
            "ttl": {"type": "int", "default": 60},
            "publish": {"type": "bool", "default": True},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 120},
            "wait_interval": {"type": "float", "default": 2},
            "check_servers": {"type": "list", "elements": "str", "default": []},
            "timeout": {"type": "float", "default": 5},
        },
        supports_check_mode=True,
    )
    for option in ("timeout", "wait_interval", "wait_timeout", "ttl"):
        if module.params[option] <= 0:
            module.fail_json(msg=f"{option}: {module.params[option]} must be greater than 0")
    client = _dns.Client(_dns.Transport(timeout=module.params["timeout"]))
    try:
        result = run(module.params, client, module.check_mode)
    except (ValueError, _dns.DNSError) as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
