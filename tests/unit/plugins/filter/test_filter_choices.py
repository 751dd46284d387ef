# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The server choices documented by the filters are the registries' names: a web server added to
webserver/_servers.py (or a syntax to profiles/_tls_profiles.py) fails here until the filter docs list it."""

from __future__ import annotations

import importlib

import pytest
import yaml

from ansible_collections.port443.https.plugins.module_utils.profiles import _tls_profiles
from ansible_collections.port443.https.plugins.module_utils.webserver import _servers


def _choices(filter_name: str, option: str) -> list[str]:
    module = importlib.import_module(f"ansible_collections.port443.https.plugins.filter.{filter_name}")
    doc = yaml.safe_load(module.DOCUMENTATION)
    return [str(c) for c in doc["options"][option]["choices"]]


@pytest.mark.parametrize("filter_name, option", [("webserver_server", "_input"), ("webserver_tls", "server")])
def test_webserver_filters_document_the_registry(filter_name, option):
    try:
        choices = _choices(filter_name, option)
    except KeyError:
        pytest.fail(f"{filter_name}: no documented choices for {option}")
    assert choices == list(_servers.SERVERS)


def test_tls_profile_documents_every_syntax():
    assert _choices("tls_profile", "server") == list(_tls_profiles.SERVERS)
