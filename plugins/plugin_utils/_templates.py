# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Render a role's template on the controller the way the template action does (the action plugins of
webserver_state and webserver_apply): the same search path, template variables and Jinja2 settings, so the text
compared by the state step is the text the apply step writes."""

from __future__ import annotations

import os
import typing as t

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core before 2.19
    def trust_as_template(value: t.Any) -> t.Any:
        return value

try:
    from ansible._internal._templating._template_vars import generate_ansible_template_vars
except ImportError:  # other ansible-core versions: ansible_managed is not rendered the same, which only costs drift
    generate_ansible_template_vars = None


def render(action: t.Any, variables: dict[str, t.Any], template: str, dest: str) -> str:
    """TEMPLATE (found in the task's role or play ``templates`` directories) rendered with VARIABLES for DEST."""
    source = action._find_needle("templates", template)  # pylint: disable=protected-access
    data = trust_as_template(action._loader.get_text_file_contents(source))  # pylint: disable=protected-access
    temp_vars = dict(variables)
    if generate_ansible_template_vars is not None:
        temp_vars.update(generate_ansible_template_vars(path=template, fullpath=source, dest_path=dest,
                                                        include_ansible_managed="ansible_managed" not in temp_vars))
    searchpath = []
    for path in list(variables.get("ansible_search_path", [])) + [action._loader._basedir, os.path.dirname(source)]:  # pylint: disable=protected-access
        searchpath += [os.path.join(path, "templates"), path]
    templar = action._templar.copy_with_new_env(searchpath=searchpath, available_variables=temp_vars)  # pylint: disable=protected-access
    # The template action's defaults: trim_blocks on, lstrip_blocks off, \n line ends.
    overrides = {"trim_blocks": True, "lstrip_blocks": False, "newline_sequence": "\n"}
    text = templar.template(data, escape_backslashes=False, overrides=overrides)
    return "" if text is None else str(text)
