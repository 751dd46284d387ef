#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: caddyfile_info
short_description: Tell who owns Caddy's main Caddyfile before the webserver role changes anything
version_added: 1.0.0
description:
  - The P(port443.https.webserver#role) role keeps its Caddy site blocks in a file of its own (O(site_file)) that the
    main Caddyfile (O(path)) imports. This module decides, read-only, whether the role may write the main file.
  - The main file is the role's to write when it is absent, byte-equal to the default the C(caddy) package shipped
    (the md5 C(dpkg-query -W -f='${Conffiles}' caddy) recorded) or starts with the role's managed header
    (C(... - port443.https.webserver; edits are overwritten.)).
  - A main file that imports O(site_file) at its top level (absolute or relative path, or a glob that matches it;
    comments and quoted strings are read as Caddy reads them) is the operator's and is never touched.
  - Any other main file is the operator's too. With O(takeover=refuse) the result carries the one message the role
    stops with (naming the file, the line to add and the option that hands the file over); with O(takeover=replace)
    the role may replace it after keeping a copy at RV(kept_copy).
  - Used by the role's full path; the role's state step (M(port443.https.webserver_state)) reaches the same decision.
author:
  - port443.https contributors (@port443)
extends_documentation_fragment:
  - port443.https._attributes
  - port443.https._attributes.info_module
  - port443.https._attributes.idempotent_not_modify_state
options:
  path:
    description: Caddy's main Caddyfile (the one its systemd unit loads).
    type: path
    default: /etc/caddy/Caddyfile
  site_file:
    description: The role's own file of site blocks, which the main Caddyfile imports.
    type: path
    default: /etc/caddy/port443-https.caddy
  takeover:
    description:
      - What to do with a main Caddyfile that is the operator's and does not import O(site_file).
      - V(refuse) reports the refusal in RV(refusal); V(replace) lets the role replace it, after keeping a copy.
      - The role's option C(webserver_caddy_caddyfile).
    type: str
    choices: [refuse, replace]
    default: refuse
  http2:
    description:
      - "The role's C(webserver_http2). V(false) needs Caddy's global option C(servers { protocols h1 }), which only the
        main file can hold: with a main file that is the operator's, RV(refusal) says so."
    type: bool
    default: true
notes:
  - Tested on Debian 12 and 13 with Caddy 2.6.2 (Molecule scenario webserver_caddyfile).
seealso:
  - module: port443.https.webserver_state
"""

EXAMPLES = r"""
---
- name: Learn who owns the main Caddyfile
  port443.https.caddyfile_info:
  register: caddyfile

- name: Stop before any change when the Caddyfile is the operator's
  ansible.builtin.fail:
    msg: "{{ caddyfile.refusal }}"
  when: caddyfile.refusal | length > 0
"""

RETURN = r"""
owner:
  description:
    - V(absent) (no main file), V(distribution) (the package's default), V(collection) (the role's header),
      V(operator-imports) (the operator's file importing O(site_file)), V(operator) (any other file).
  returned: always
  type: str
  sample: operator-imports
write:
  description: Whether the role writes the main Caddyfile (global options and the import of O(site_file)).
  returned: always
  type: bool
  sample: false
foreign_ok:
  description:
    - Whether writing the main file replaces a live file without the role's header (the distribution's default, a
      file handed over with O(takeover=replace), or the default the package is about to install where the file is
      absent).
  returned: always
  type: bool
  sample: false
keep:
  description: Whether a copy of the live file is kept at RV(kept_copy) before it is replaced.
  returned: always
  type: bool
  sample: false
kept_copy:
  description: Where the copy is kept (named after the content's sha256; never deleted by the role), or V("").
  returned: always
  type: str
  sample: /var/lib/port443/webserver/originals/Caddyfile.sha256-0123456789abcdef
refusal:
  description: The message the role stops with before any change, or V("") when it may go on.
  returned: always
  type: str
sha256:
  description: The sha256 of the live main file (V(null) when it is absent).
  returned: always
  type: str
imports:
  description: The arguments of the main file's top-level C(import) lines.
  returned: always
  type: list
  elements: str
  sample: [/etc/caddy/port443-https.caddy]
h3:
  description:
    - Whether the operator's main file serves HTTP/3 (Caddy's default, unless its global options hold C(protocols) lines
      without C(h3)); the webserver role follows it for every site.
  returned: when RV(owner) is V(operator-imports)
  type: bool
  version_added: 1.1.0
"""

import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.port443.https.plugins.module_utils.webserver import _caddyfile


def main() -> t.NoReturn:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "default": _caddyfile.MAIN},
            "site_file": {"type": "path", "default": _caddyfile.SITE_FILE},
            "takeover": {"type": "str", "choices": list(_caddyfile.TAKEOVER), "default": "refuse"},
            "http2": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    p = module.params

    def run(argv: list[str], stdin: str | None) -> tuple[int, str, str]:
        if module.get_bin_path(argv[0]) is None:
            return 127, "", f"{argv[0]} not found"
        return module.run_command(argv, data=stdin, binary_data=True)

    try:
        result = _caddyfile.inspect(p["path"], p["site_file"], p["takeover"], p["http2"], run)
    except OSError as exc:
        module.fail_json(msg=f"{p['path']} cannot be read: {exc.strerror or exc}. Nothing was changed.")
    result["kept_copy"] = _caddyfile.kept_copy(result["sha256"]) if result["keep"] else ""
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
