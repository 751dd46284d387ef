# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Every configuration snippet of the docs is marked for its checker (tests/tools/doc_snippets.py); the
docs_snippets Molecule scenario runs the checkers. These tests prove that no snippet escapes the marking."""

from __future__ import annotations

import importlib.util
import json
import os
import re

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = importlib.util.spec_from_file_location("doc_snippets", os.path.join(HERE, "..", "tools", "doc_snippets.py"))
assert SPEC and SPEC.loader
ds = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(ds)
FIXTURES = os.path.join(HERE, "data", "doc_snippets")


def write(tmp_path, text: str) -> str:
    (tmp_path / "doc.md").write_text(text, encoding="utf-8")
    return "doc.md"


def test_collection_docs_mark_every_configuration_snippet():
    assert ds.lint(ds.doc_files()) == []


def test_extract_finds_every_marked_block_of_the_docs(tmp_path):
    paths = ds.doc_files()
    assert "docs/certificates-dns.md" in paths and "README.md" in paths and "roles/certificate/README.md" in paths
    markers = []
    for path in paths:  # counted without the tool: marker lines, less those shown in ````markdown examples
        with open(os.path.join(ds.ROOT, path), encoding="utf-8") as handle:
            text = re.sub(r"^````markdown\n.*?^````$", "", handle.read(), flags=re.S | re.M)
        markers += [(path, m.start()) for m in re.finditer(r"^<!-- snippet-check: .* -->$", text, re.M)]
    manifest = ds.extract(paths, str(tmp_path))
    assert len(manifest) == len(markers) >= 1
    assert {m["doc"] for m in manifest} == {path for path, _offset in markers}
    named = [m for m in manifest if m["doc"] == "docs/certificates-dns.md" and m["checker"] == "named-checkconf"]
    assert len(named) == 1
    text = (tmp_path / named[0]["file"]).read_text(encoding="utf-8")
    assert "update-policy" in text and "…" not in text and ds.PLACEHOLDER["named-checkconf"] in text
    on_disk = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk["packages"] == ["bind9-utils"] and on_disk["snippets"] == manifest


def test_no_bind_policy_with_a_wildcard_in_the_middle():
    """BIND refuses `wildcard _acme-challenge.*.example.com.`; the docs, module docs and roles must not give it."""
    bad = re.compile(r"grant\s+\S+\s+wildcard\s+\S+\.\*\.")
    offenders = []
    for top in ("docs", "roles", "plugins", "extensions"):
        for base, _dirs, files in os.walk(os.path.join(ds.ROOT, top)):
            for name in files:
                if name.endswith((".md", ".py", ".yml", ".j2")):
                    with open(os.path.join(base, name), encoding="utf-8") as handle:
                        if bad.search(handle.read()):
                            offenders.append(os.path.relpath(os.path.join(base, name), ds.ROOT))
    assert offenders == []


@pytest.mark.parametrize("language", sorted(ds.LANGUAGE_CHECKER))
def test_unmarked_block_of_a_config_language_fails(tmp_path, language):
    path = write(tmp_path, f"# Doc\n\nText.\n\n```{language}\nsomething;\n```\n")
    found = ds.lint([path], str(tmp_path))
    assert len(found) == 1 and found[0].startswith("doc.md:5: ")
    assert f"snippet-check: {ds.LANGUAGE_CHECKER[language]}" in found[0]


@pytest.mark.parametrize("text,language", [
    ('zone "example.com" {\n  type primary;\n};', "named"),
    ("update-policy {\n  grant k name x. TXT;\n};", "named"),
    ("server {\n  listen 443 ssl;\n}", "nginx"),
    ("ssl_certificate /etc/ssl/x.pem;", "nginx"),
    ("<VirtualHost *:443>\n</VirtualHost>", "apache"),
    ("SSLEngine on", "apache"),
    ("table inet filter {\n}", "nft"),
    ("www.example.com {\n\ttls internal\n}", "caddyfile"),
])
@pytest.mark.parametrize("fence", ["text", "yaml", "conf-less"])
def test_config_behind_another_language_fails(tmp_path, text, language, fence):
    path = write(tmp_path, f"```{fence}\n{text}\n```\n")
    found = ds.lint([path], str(tmp_path))
    assert len(found) == 1 and f"looks like {language} configuration" in found[0]


def test_unchecked_config_language_and_missing_language_fail(tmp_path):
    path = write(tmp_path, "```ini\n[defaults]\n```\n\n```\nplain\n```\n")
    found = ds.lint([path], str(tmp_path))
    assert found[0].startswith("doc.md:1: ") and "no checker covers" in found[0]
    assert found[1].startswith("doc.md:5: ") and "without a language" in found[1]


def test_plain_blocks_pass(tmp_path):
    path = write(tmp_path, "```yaml\ncertificate_source: acme\n```\n\n```bash\nbash scripts/test\n```\n"
                           "```text\nipv4: allow tcp/443 from any\n```\n")
    assert ds.lint([path], str(tmp_path)) == []


@pytest.mark.parametrize("marker,fence,expected", [
    ("snippet-check: nginxx", "nginx", "unknown checker 'nginxx'"),
    ("snippet-check: nginx", "apache", "must be fenced as ```nginx"),
    ("snippet-check: nginx context=vhost", "nginx", "has no context 'vhost'"),
    ("snippet-check: nft colour=red", "nft", "unknown option(s) colour"),
])
def test_wrong_markers_fail(tmp_path, marker, fence, expected):
    path = write(tmp_path, f"<!-- {marker} -->\n```{fence}\nx;\n```\n")
    found = ds.lint([path], str(tmp_path))
    assert len(found) == 1 and found[0].startswith("doc.md:1: ") and expected in found[0], found


def test_marker_without_block_fails(tmp_path):
    path = write(tmp_path, "<!-- snippet-check: nft -->\n\nSome text.\n\n```nft\nx\n```\n")
    found = ds.lint([path], str(tmp_path))
    assert any(f.startswith("doc.md:1: ") and "no fenced block follows" in f for f in found)
    assert any(f.startswith("doc.md:5: ") and "without a marker" in f for f in found)


def test_extract_refuses_unmarked_config(tmp_path):
    path = write(tmp_path, "```nginx\nserver {}\n```\n")
    with pytest.raises(SystemExit, match="doc.md:1: "):
        ds.extract([path], str(tmp_path / "out"), str(tmp_path))


def test_wrapping_puts_the_snippet_in_its_context(tmp_path):
    path = write(tmp_path, "Intro\n\n<!-- snippet-check: nginx context=server -->\n\n  ```nginx\n  listen 443;\n  ```\n"
                           "<!-- snippet-check: nft context=chain -->\n```nft\ntcp dport 443 accept\n```\n"
                           "<!-- snippet-check: named-checkconf context=zone -->\n```bind\n"
                           "update-policy { grant k zonesub TXT; };\n```\n")
    manifest = ds.extract([path], str(tmp_path / "out"), str(tmp_path))
    assert [(m["line"], m["checker"]) for m in manifest] == [(6, "nginx"), (10, "nft"), (14, "named-checkconf")]
    for item in manifest:
        text = (tmp_path / "out" / item["file"]).read_text(encoding="utf-8")
        first = text.split("\n")[item["offset"] - 1]
        assert first in ("listen 443;", "tcp dport 443 accept", "update-policy { grant k zonesub TXT; };")
    nginx = (tmp_path / "out" / manifest[0]["file"]).read_text(encoding="utf-8")
    assert nginx == "events {}\nhttp {\nserver {\nlisten 443;\n}\n}\n"
    assert "chain input {" in (tmp_path / "out" / manifest[1]["file"]).read_text(encoding="utf-8")
    assert 'zone "snippet-check.test" {' in (tmp_path / "out" / manifest[2]["file"]).read_text(encoding="utf-8")


@pytest.mark.parametrize("name,count", [("accepted.md", 12), ("rejected.md", 5)])
def test_fixtures_cover_every_checker(tmp_path, name, count):
    """The scenario proves each checker and wrapping on these: accepted.md has every checker in every context."""
    manifest = ds.extract([name], str(tmp_path), FIXTURES)
    assert len(manifest) == count
    assert {m["checker"] for m in manifest} == set(ds.CHECKERS)
    if name == "accepted.md":
        used = set()
        for block in ds.blocks(name, FIXTURES):
            checker, options = ds.parse_marker(block.marker or "")
            used.add((checker, options.get("context", next(iter(ds.CHECKERS[checker]["contexts"])))))
        assert used == {(c, x) for c, spec in ds.CHECKERS.items() for x in spec["contexts"]}


def test_check_without_the_checker_is_a_failure_never_a_rejection(tmp_path, capsys, monkeypatch):
    ds.extract(["rejected.md"], str(tmp_path), FIXTURES)
    monkeypatch.setattr(ds.shutil, "which", lambda _name: None)
    assert ds.check(str(tmp_path), expect_reject=True) == 1
    out = capsys.readouterr().out
    assert "named-checkconf is not installed" in out and "apache2 is not installed" in out and "0 passed, 5 failed" in out


def test_check_names_the_doc_line_of_a_rejected_snippet(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, "# Doc\n\n<!-- snippet-check: nft -->\n```nft\nbroken\n```\n")
    ds.extract([path], str(tmp_path / "out"), str(tmp_path))
    monkeypatch.setattr(ds.shutil, "which", lambda name: "/usr/sbin/" + name)

    class Proc:
        returncode, stdout = 1, ""

        def __init__(self, argv, **_kwargs):
            self.stderr = f"{argv[-1]}:1:1-6: Error: syntax error, unexpected newline"

    monkeypatch.setattr(ds.subprocess, "run", Proc)
    assert ds.check(str(tmp_path / "out")) == 1
    out = capsys.readouterr().out
    assert "FAILED doc.md:5: nft rejected the snippet" in out and "0 passed, 1 failed" in out
    assert "doc.md:5:1-6: Error: syntax error, unexpected newline" in out  # the checker's line, as a doc line
    assert ds.check(str(tmp_path / "out"), expect_reject=True) == 0


def test_markdown_examples_and_inline_backticks_are_no_snippets(tmp_path):
    """A ````markdown block may show a marked snippet; a line that starts with inline code is no fence."""
    path = write(tmp_path, "````markdown\n<!-- snippet-check: named-checkconf -->\n```named\nzone \"x\" {};\n```\n"
                           "````\n\n```` ```yaml ````, or ```` ```bash ````\n\n```nginx\nserver {}\n```\n")
    blocks = ds.blocks(path, str(tmp_path))
    assert [(b.line, b.language, b.end) for b in blocks] == [(1, "markdown", 6), (10, "nginx", 12)]
    assert ds.lint([path], str(tmp_path)) == [
        "doc.md:10: a ```nginx block without a marker: put '<!-- snippet-check: nginx -->' on the line before it"]
