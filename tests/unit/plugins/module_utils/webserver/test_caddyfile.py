# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Who owns Caddy's main Caddyfile: the role's header, the package's default, an import of the role's file in any
form Caddy accepts (and none that Caddy would not read as one: comments, quoted text, lines inside blocks), and the
operator's file, refused unless handed over."""
from __future__ import annotations

import hashlib

import pytest

from ansible_collections.port443.https.plugins.module_utils.webserver import _caddyfile as cf

SITE = "/etc/caddy/port443-https.caddy"
MAIN = "/etc/caddy/Caddyfile"
DEFAULT = b""":80 {
\troot * /usr/share/caddy
\tfile_server
}
"""
OPERATOR = b""":8081 {
\trespond "operator 8081"
}
http://legacy.example {
\trespond "legacy"
}
"""
HEADER = b"# Ansible managed - port443.https.webserver; edits are overwritten.\n"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324


@pytest.mark.parametrize("line", [
    "import /etc/caddy/port443-https.caddy",
    "import port443-https.caddy",
    "import ./port443-https.caddy",
    "import ../caddy/port443-https.caddy",
    'import "/etc/caddy/port443-https.caddy"',
    "import `port443-https.caddy`",
    "import /etc/caddy/*.caddy",
    "import /etc/caddy/port443-*",
    "import /etc/caddy/port443-http[rs].caddy",
    "import /etc/caddy/port443-http[^x].caddy",
    "import /etc/caddy/port443-https.cadd?",
    "import *",
    "    import /etc/caddy/port443-https.caddy   # the role's sites",
    "import /etc/caddy/port443-https.caddy extra args",
])
def test_imports_in_any_form(line: str) -> None:
    text = OPERATOR.decode() + line + "\n"
    assert cf.imports(text, MAIN, SITE), line
    decision = cf.decide(text.encode(), None, "refuse")
    assert (decision["owner"], decision["write"], decision["refusal"]) == ("operator-imports", False, "")


@pytest.mark.parametrize("line", [
    "# import /etc/caddy/port443-https.caddy",
    "#import /etc/caddy/port443-https.caddy",
    'respond "import /etc/caddy/port443-https.caddy"',
    '"import" /etc/caddy/port443-https.caddy',
    "import /etc/caddy/port443-https.caddy.bak",
    "import /etc/caddy/sites/*.caddy",
    "import /etc/caddy/*/port443-https.caddy",
    "import /etc/*",
    "import conf.d/port443-https.caddy",
    "import {$SITES}/port443-https.caddy",
    "import /etc/caddy/port443-http[.caddy",
    "import",
    "imports /etc/caddy/port443-https.caddy",
    "reverse_proxy localhost:8080 import /etc/caddy/port443-https.caddy",
])
def test_lines_that_are_no_import_of_the_file(line: str) -> None:
    text = OPERATOR.decode() + line + "\n"
    assert not cf.imports(text, MAIN, SITE), line
    assert cf.decide(text.encode(), None, "refuse")["owner"] == "operator"


def test_imports_inside_blocks_or_strings_do_not_count() -> None:
    inside_site = ":8081 {\n\timport /etc/caddy/port443-https.caddy\n}\n"
    inside_global = "{\n\temail a@b.c\n\timport /etc/caddy/port443-https.caddy\n}\n"
    inside_snippet = "(sites) {\n\timport /etc/caddy/port443-https.caddy\n}\n"
    # A quoted string spanning lines: the "import" after it is on the string's last line, not the first of a line.
    in_string = ':8081 {\n\trespond "a\nb" 200\n}\nheader "x\n" import /etc/caddy/port443-https.caddy\n'
    for text in (inside_site, inside_global, inside_snippet, in_string):
        assert not cf.imports(text, MAIN, SITE), text
    # A brace inside a quoted string opens nothing: the import after the block is at the top level.
    quoted_brace = ':8081 {\n\trespond "{ not a block"\n}\nimport port443-https.caddy\n'
    assert cf.imports(quoted_brace, MAIN, SITE)
    # Placeholders ({host}) are part of a token, not blocks.
    placeholder = ":8081 {\n\tredir https://{host}{uri}\n}\nimport port443-https.caddy\n"
    assert cf.imports(placeholder, MAIN, SITE)


def test_snippet_named_like_the_file_is_no_import() -> None:
    text = "(port443-https.caddy) {\n\tencode gzip\n}\nimport port443-https.caddy\n"
    assert cf.top_level_imports(text) == []
    assert not cf.imports(text, MAIN, SITE)


def test_relative_import_follows_the_caddyfile_directory() -> None:
    assert cf.imports("import port443-https.caddy\n", "/srv/caddy/Caddyfile", "/srv/caddy/port443-https.caddy")
    assert not cf.imports("import port443-https.caddy\n", "/srv/caddy/Caddyfile", SITE)


def test_tokenizer_reads_comments_quotes_and_escapes() -> None:
    tokens = cf.tokenize('a "b \\" c"#x # comment\n`raw "q"` d#e\n')
    assert [(tok.text, tok.line, tok.quoted) for tok in tokens] == [
        ("a", 1, False), ('b " c', 1, True), ('raw "q"', 2, True), ("d#e", 2, False)]
    # "#" starts a comment only at the start of a token (right after a closing quote too, as in Caddy's lexer).


def test_header_decides_the_collection_owns_the_file_even_when_it_imports() -> None:
    ours = HEADER + b"{\n\tservers {\n\t\tprotocols h1 h2\n\t}\n}\nimport port443-https.caddy\n"
    assert cf.decide(ours, None, "refuse")["owner"] == "collection"
    assert cf.decide(ours, None, "refuse")["write"] is True
    assert cf.decide(ours, None, "refuse")["foreign_ok"] is False
    # A custom ansible_managed text keeps the role's words at the end of the line.
    custom = b"# Managed by the platform team {file} - port443.https.webserver; edits are overwritten.\n" + OPERATOR
    assert cf.has_header(custom.decode())
    # The header must be among the leading comments, and be the role's words.
    late = OPERATOR + HEADER
    mention = b"# see port443.https.webserver\n" + OPERATOR
    assert not cf.has_header(late.decode()) and not cf.has_header(mention.decode())
    assert cf.decide(late, None, "refuse")["owner"] == "operator"


def test_distribution_default_is_taken_over_only_when_byte_equal() -> None:
    decision = cf.decide(DEFAULT, md5(DEFAULT), "refuse")
    assert (decision["owner"], decision["write"], decision["foreign_ok"], decision["keep"]) == (
        "distribution", True, True, False)
    edited = DEFAULT + b"\n"
    assert cf.decide(edited, md5(DEFAULT), "refuse")["owner"] == "operator"
    assert cf.decide(DEFAULT, None, "refuse")["owner"] == "operator"


def test_absent_file_is_written() -> None:
    decision = cf.decide(None, md5(DEFAULT), "refuse")
    assert (decision["owner"], decision["write"], decision["refusal"], decision["sha256"]) == ("absent", True, "", None)


def test_operator_file_is_refused_with_both_ways_out() -> None:
    decision = cf.decide(OPERATOR, md5(DEFAULT), "refuse")
    assert (decision["owner"], decision["write"], decision["foreign_ok"], decision["keep"]) == (
        "operator", False, False, False)
    msg = decision["refusal"]
    assert MAIN in msg and "operator's" in msg and "Nothing was changed" in msg
    assert "`import /etc/caddy/port443-https.caddy`" in msg
    assert "webserver_caddy_caddyfile: replace" in msg and cf.ORIGINALS in msg


def test_replace_hands_the_file_over_and_keeps_a_copy() -> None:
    decision = cf.decide(OPERATOR, md5(DEFAULT), "replace")
    assert (decision["owner"], decision["write"], decision["foreign_ok"], decision["keep"], decision["refusal"]) == (
        "operator", True, True, True, "")
    assert decision["sha256"] == hashlib.sha256(OPERATOR).hexdigest()
    assert cf.kept_copy(decision["sha256"]) == f"{cf.ORIGINALS}/Caddyfile.sha256-{decision['sha256'][:16]}"
    # replace changes nothing for a file that imports the role's (it stays the operator's).
    imports = OPERATOR + b"import /etc/caddy/port443-https.caddy\n"
    assert cf.decide(imports, None, "replace")["write"] is False


def test_bad_takeover_value_names_the_option() -> None:
    with pytest.raises(ValueError, match="webserver_caddy_caddyfile must be one of refuse, replace, not 'yes'"):
        cf.decide(OPERATOR, None, "yes")


def test_http2_off_with_an_operator_main_file_is_refused() -> None:
    imports = OPERATOR + b"import /etc/caddy/port443-https.caddy\n"
    decision = cf.decide(imports, None, "refuse", http2=False)
    assert "webserver_http2 is false" in decision["refusal"] and "servers { protocols h1 }" in decision["refusal"]
    assert cf.decide(HEADER + OPERATOR, None, "refuse", http2=False)["refusal"] == ""


def test_conffile_md5_reads_dpkg_output() -> None:
    out = " /etc/caddy/Caddyfile 8cbf072a3e390217a88c242a7f18ee76\n /etc/other abc obsolete\n"
    assert cf.conffile_md5(out, MAIN) == "8cbf072a3e390217a88c242a7f18ee76"
    assert cf.conffile_md5(out, "/etc/other") is None
    assert cf.conffile_md5("", MAIN) is None


def test_inspect_reads_the_file_and_dpkg(tmp_path) -> None:
    main = tmp_path / "Caddyfile"
    calls = []

    def run(argv, stdin):
        calls.append(argv)
        return 0, f" {main} {md5(DEFAULT)}\n", ""

    assert cf.inspect(str(main), SITE, "refuse", True, run)["owner"] == "absent"
    main.write_bytes(DEFAULT)
    assert cf.inspect(str(main), SITE, "refuse", True, run)["owner"] == "distribution"
    assert calls[-1][:2] == ["dpkg-query", "-W"] and calls[-1][-1] == "caddy"
    main.write_bytes(OPERATOR + b"import port443-https.caddy\n")
    assert cf.inspect(str(main), str(tmp_path / "port443-https.caddy"), "refuse", True, run)["owner"] == "operator-imports"

    def no_dpkg(argv, stdin):
        return 1, "", "dpkg-query: no packages found matching caddy"

    main.write_bytes(DEFAULT)
    assert cf.inspect(str(main), SITE, "refuse", True, no_dpkg)["owner"] == "operator"
    main.chmod(0)
    main_dir_file = tmp_path / "dir"
    main_dir_file.mkdir()
    with pytest.raises(OSError):
        cf.inspect(str(main_dir_file), SITE, "refuse", True, run)


@pytest.mark.parametrize(("text", "h3"), [
    ("import /etc/caddy/port443-https.caddy\n", True),
    ("{\n    email a@example.org\n}\nimport port443-https.caddy\n", True),
    ("{\n    servers {\n        protocols h1 h2\n    }\n}\nimport port443-https.caddy\n", False),
    ("{\n    servers :443 {\n        protocols h1 h2 h3\n    }\n}\nimport port443-https.caddy\n", True),
    # A protocols line in a site block is no global option.
    ("example.org {\n    protocols h1\n}\nimport port443-https.caddy\n", True),
])
def test_serves_h3_reads_the_global_options(text: str, h3: bool) -> None:
    assert cf.serves_h3(text) is h3
    decided = cf.decide(text.encode(), None, "refuse")
    assert (decided["owner"], decided["h3"]) == ("operator-imports", h3)
