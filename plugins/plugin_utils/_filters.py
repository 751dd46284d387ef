# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
#
# Note that this plugin util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Run collection core functions from Jinja filters and tests: bad input becomes AnsibleFilterError."""

from __future__ import annotations

import functools
import importlib
import typing as t

from ansible.errors import AnsibleError, AnsibleFilterError


class Core:
    """A module of the collection's core (plugins/module_utils/NAME), imported when a filter first reads from it.

    Ansible imports every filter (and every test) file of a collection the first time a template names one of them,
    in each worker process, that is for every task whose templates use one: a filter file that imported its core at
    load time made each such task import the certificate, web server and report cores (and cryptography), about 0.1 s
    of controller time per task, whichever filter it used."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: t.Any = None

    def __getattr__(self, attr: str) -> t.Any:
        if self._module is None:
            self._module = importlib.import_module(f"ansible_collections.port443.https.plugins.module_utils.{self._name}")
        return getattr(self._module, attr)


_x509 = Core("certificate._x509")


def wrap(name: str, func: t.Callable[..., t.Any], needs_cryptography: bool = False) -> t.Callable[..., t.Any]:
    """Decorate a core function so that bad input surfaces as one AnsibleFilterError naming the plugin, never as a
    Python exception: ValueError/TypeError (the core's own messages say what was expected), KeyError, and as a last
    resort any other exception, reported with the type of the input."""

    @functools.wraps(func)
    def inner(*args: t.Any, **kwargs: t.Any) -> t.Any:
        if needs_cryptography and not _x509.HAS_CRYPTOGRAPHY:
            raise AnsibleFilterError(f"{name}: the Python library cryptography is required on the controller")
        try:
            return func(*args, **kwargs)
        except KeyError as exc:
            raise AnsibleFilterError(f"{name}: unknown value {exc}") from exc
        except (ValueError, TypeError) as exc:
            raise AnsibleFilterError(f"{name}: {exc}") from exc
        except AnsibleError:
            raise
        except Exception as exc:  # pylint: disable=broad-exception-caught
            got = type(args[0]).__name__ if args else "nothing"
            raise AnsibleFilterError(f"{name}: cannot use this input (got {got}): {exc}") from exc

    return inner


def expect_text(name: str, value: t.Any, what: str) -> str:
    """value as text (bytes decoded as UTF-8); TypeError/ValueError saying what was expected otherwise."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"expected {what} as text, got bytes that are not UTF-8") from None
    if not isinstance(value, str):
        raise TypeError(f"expected {what} (a string), got {type(value).__name__}")
    return value


def expect_int(option: str, value: t.Any) -> int:
    """A whole number (an int, or a string of digits); TypeError naming the option otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"{option}: expected a whole number, got {type(value).__name__}")
    try:
        return int(value)
    except ValueError:
        raise TypeError(f"{option}: expected a whole number, got {value!r}") from None
