# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""The webserver role's state step on real temporary files: every kind of drift the full path would repair is
reported (content, owner, mode, missing files and directories, placeholder pages, client CA copies, Caddy's key
copies, the default site, Apache module links), options the role refuses are left to the full path, and a
converged tree reports nothing."""
from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
import subprocess

import pytest

from ansible_collections.port443.https.plugins.module_utils.webserver import _webserver_state as ws

ME = pwd.getpwuid(os.getuid()).pw_name
MY_GROUP = grp.getgrgid(os.getgid()).gr_name
needs_root = pytest.mark.skipif(os.getuid() != 0, reason="owner checks against root:root need root")


def run(argv, stdin):
    """What the module's AnsibleModule.run_command does, for the tests."""
    try:
        proc = subprocess.run(argv, input=stdin or "", capture_output=True, text=True, timeout=60, check=False)
    except OSError as exc:
        return 127, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command missing")


@pytest.fixture(name="ca_pem", scope="module")
def fixture_ca_pem(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl command missing")
    d = tmp_path_factory.mktemp("ca")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(d / "ca.key"), "-out", str(d / "ca.crt"), "-subj", "/CN=staff CA", "-days", "2"],
                   check=True, capture_output=True)
    return (d / "ca.crt").read_text()


def test_owned_reports_missing_kind_and_mode(tmp_path):
    d = tmp_path / "d"
    assert ws.owned(str(d), ME, MY_GROUP, 0o755, "dir") == f"{d} is missing"
    d.mkdir(mode=0o700)
    os.chmod(d, 0o700)
    assert "mode 0700, not 0755" in ws.owned(str(d), ME, MY_GROUP, 0o755, "dir")
    os.chmod(d, 0o755)
    assert ws.owned(str(d), ME, MY_GROUP, 0o755, "dir") is None
    assert "not a regular file" in ws.owned(str(d), ME, MY_GROUP, 0o755, "file")
    f = tmp_path / "f"
    f.write_text("x")
    assert "not a directory" in ws.owned(str(f), ME, MY_GROUP, 0o755, "dir")
    assert "not owned by" in ws.owned(str(f), "no-such-owner", MY_GROUP, 0o644, "file")


def _content_roots(tmp_path):
    """Content roots: one with an index file, one without, one missing, one whose index is a dangling link, and a
    plain file where a root is expected."""
    with_index, without, missing, dangling = (tmp_path / n for n in ("with", "without", "missing", "dangling"))
    with_index.mkdir()
    (with_index / "index.php").write_text("<?php")
    without.mkdir()
    (without / "about.html").write_text("x")
    dangling.mkdir()
    os.symlink(tmp_path / "nowhere", dangling / "index.html")
    plain_file = tmp_path / "plain"
    plain_file.write_text("x")
    return with_index, without, missing, dangling, plain_file


def test_placeholder_needed(tmp_path):
    with_index, without, missing, dangling, plain_file = _content_roots(tmp_path)
    roots = [str(p) for p in (with_index, without, missing, dangling, plain_file)]
    # A root that is a file gets nothing from the full path either; a dangling index link is left to the full path.
    assert ws.placeholder_needed(roots) == [str(without), str(missing), str(dangling)]


def test_root_state_is_what_the_placeholder_step_reads(tmp_path):
    """The full path writes its placeholder from these: a dangling index link counts as an index there (a directory
    listing shows it), a root that is a file is neither created nor given a page."""
    with_index, without, missing, dangling, plain_file = _content_roots(tmp_path)
    assert ws.root_state(str(with_index)) == {"exists": True, "isdir": True, "index": True}
    assert ws.root_state(str(without)) == {"exists": True, "isdir": True, "index": False}
    assert ws.root_state(str(missing)) == {"exists": False, "isdir": False, "index": False}
    assert ws.root_state(str(dangling)) == {"exists": True, "isdir": True, "index": True}
    assert ws.root_state(str(plain_file)) == {"exists": True, "isdir": False, "index": False}
    assert ws.root_state(str(without), ["about.html"])["index"] is True


def test_file_state_and_compare_files(tmp_path):
    live = tmp_path / "live.conf"
    observed = {str(live): ws.file_state(str(live))}
    assert observed[str(live)] == {"exists": False}
    assert ws.compare_files({str(live): "server {}\n"}, observed) == [f"{live} is missing"]
    live.write_text("server {}\n")
    os.chmod(live, 0o644)
    state = ws.file_state(str(live))
    assert state["checksum"] == hashlib.sha1(b"server {}\n").hexdigest()  # noqa: S324
    assert state["mode"] == "0644"
    assert ws.compare_files({str(live): "server { }\n"}, {str(live): state}) == [f"{live} differs from the rendered configuration"]
    wrong_owner = dict(state, owner="www-data")
    assert ws.compare_files({str(live): "server {}\n"}, {str(live): wrong_owner}) == [f"{live} is not root:root 0644"]
    root_owned = dict(state, owner="root", group="root")
    assert ws.compare_files({str(live): "server {}\n"}, {str(live): root_owned}) == []
    assert ws.compare_files({str(live): "server {}\n"}, {str(live): dict(root_owned, mode="0600")}) == [f"{live} is not root:root 0644"]
    (tmp_path / "dir.conf").mkdir()
    assert ws.file_state(str(tmp_path / "dir.conf")) == {"exists": False}


def test_read_client_ca(tmp_path, ca_pem):
    assert ws.read_client_ca("\n" + ca_pem + "\n\n") == (ca_pem.strip(), "")
    path = tmp_path / "ca.pem"
    path.write_text(ca_pem)
    assert ws.read_client_ca(str(path)) == (ca_pem.strip(), "")
    pem, error = ws.read_client_ca(str(tmp_path / "missing.pem"))
    assert pem is None and error == f"{str(tmp_path / 'missing.pem')!r} does not exist"
    copy = ws.client_ca_copy("/etc/port443/client-ca", "staff", ca_pem.strip())
    assert copy == "/etc/port443/client-ca/staff-" + hashlib.sha256(ca_pem.strip().encode()).hexdigest()[:16] + ".pem"


@needs_openssl
def test_client_ca_problem(ca_pem):
    assert ws.client_ca_problem(ca_pem.strip(), run) is None
    assert ws.client_ca_problem(None, run) == "unreadable"
    assert ws.client_ca_problem("hello", run) == "not a PEM certificate"
    assert ws.client_ca_problem(ca_pem + "\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", run) == "not a PEM certificate"
    broken = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----"
    assert ws.client_ca_problem(broken, run).startswith("does not parse")


def test_packages_missing():
    if shutil.which("dpkg-query") is None:
        assert ws.packages_missing(["dpkg"], run) == ["dpkg"]
        return
    assert ws.packages_missing(["dpkg", "port443-no-such-package"], run) == ["port443-no-such-package"]
    assert ws.packages_missing([], run) == []


def test_packages_missing_counts_a_held_package_as_installed():
    # The collection's one dpkg reader: a held nginx ("hi") is installed, as apt's state=present sees it.
    assert ws.packages_missing(["nginx", "ssl-cert"], lambda argv, stdin: (0, "nginx hi \nssl-cert rc \n", "")) == ["ssl-cert"]


def _converged_tree(tmp_path, ca_pem):
    """A tree as the full path leaves it (root-owned: run as root)."""
    tree = {n: tmp_path / n for n in ("acme", "site", "caddy", "client-ca", "candidate", "live", "certs", "mods")}
    for path in tree.values():
        path.mkdir()
        os.chmod(path, 0o755)
    os.chmod(tree["candidate"], 0o700)
    (tree["site"] / "index.html").write_text("site\n")
    (tree["certs"] / "site.crt").write_text("CERT\n")
    (tree["certs"] / "site.key").write_text("KEY\n")
    (tree["mods"] / "ssl.load").write_text("LoadModule\n")
    pem = ca_pem.strip()
    copy = ws.client_ca_copy(str(tree["client-ca"]), "staff", pem)
    with open(copy, "w", encoding="utf-8") as handle:
        handle.write(pem + "\n")
    os.chmod(copy, 0o644)
    spec = {"server": "nginx", "packages": [],
            "vhost_certs": [{"name": "site", "own": True, "cert_file": str(tree["certs"] / "site.crt"),
                             "key_file": str(tree["certs"] / "site.key")}],
            "dirs": [str(tree["acme"]), str(tree["site"])], "content_roots": [str(tree["site"])],
            "client_cas": [{"name": "staff", "client_ca": pem}], "client_ca_dir": str(tree["client-ca"]),
            "files": [str(tree["live"] / "port443-https.conf")], "candidate_dir": str(tree["candidate"]),
            "default_site": str(tree["live"] / "default"), "modules": [str(tree["mods"] / "ssl.load")],
            "service": ""}
    return tree, spec, copy


@needs_root
@needs_openssl
def test_inspect_reports_each_drift_the_full_path_repairs(tmp_path, ca_pem):
    tree, spec, copy = _converged_tree(tmp_path, ca_pem)
    result = ws.inspect(spec, run)
    # Nothing but the service (no systemd here) drifts; the certificates exist, the client CA copy is known.
    assert [d for d in result["drift"] if "service" not in d and "nginx" not in d] == []
    assert result["missing"] == []
    assert result["client_ca_files"] == {"staff": copy}
    assert result["files"][str(tree["live"] / "port443-https.conf")] == {"exists": False}
    # What the full path reads from the state step instead of reading the host again.
    assert result["roots"] == {str(tree["site"]): {"exists": True, "isdir": True, "index": True}}
    assert result["cert_files"] == [[True, True]]
    # nginx -v runs on the host's nginx: on a machine without one the step reports the failure (the role stops on it).
    assert result["version_failed"] is (shutil.which("nginx") is None) and "tls_probe" in result

    os.chmod(tree["acme"], 0o750)
    os.remove(tree["site"] / "index.html")
    with open(copy, "a", encoding="utf-8") as handle:
        handle.write("# edited\n")
    os.chmod(tree["candidate"], 0o755)
    (tree["live"] / "default").symlink_to(tmp_path / "nowhere")
    os.remove(tree["mods"] / "ssl.load")
    os.remove(tree["certs"] / "site.key")
    drift = ws.inspect(spec, run)
    text = "\n".join(drift["drift"])
    for expected in (f"{tree['acme']} has mode 0750", f"{tree['site']} needs its placeholder page", f"{copy} differs",
                     f"{tree['candidate']} has mode 0755", f"{tree['live'] / 'default'} is there"):
        assert expected in text
    # Which modules are needed is decided on the controller (proxy modules depend on the carried site bodies).
    assert drift["modules_present"] == {str(tree["mods"] / "ssl.load"): False}
    assert drift["missing"] == ["site"]
    assert drift["cert_files"] == [[True, False]]
    assert drift["roots"][str(tree["site"])]["index"] is False


@needs_root
@needs_openssl
def test_inspect_caddy_copies_and_bad_client_ca(tmp_path, ca_pem):
    tree, spec, _copy = _converged_tree(tmp_path, ca_pem)
    caddy = tree["caddy"]
    shutil.chown(caddy, "root", "root")
    spec.update(server="caddy", cert_copy_dir=str(caddy), client_cas=[{"name": "staff", "client_ca": str(tmp_path / "none.pem")}])
    spec["vhost_certs"][0]["copies"] = [{"src": spec["vhost_certs"][0][f"{what}_file"], "dest": str(caddy / f"site.{ext}")}
                                        for what, ext in (("cert", "crt"), ("key", "key"))]
    drift = "\n".join(ws.inspect(spec, run)["drift"])
    assert f"{caddy} is not owned by caddy:caddy" in drift or f"{caddy} has an owner" in drift
    assert f"{caddy}/site.crt is missing" in drift and f"{caddy}/site.key is missing" in drift
    assert f"client_ca of staff: {str(tmp_path / 'none.pem')!r} does not exist" in drift


def test_caddyfile_decision_is_part_of_the_state(tmp_path):
    """The state step reaches the full path's decision about Caddy's main Caddyfile: an operator's file that does
    not import the role's is drift with the refusal (never converged); one that imports it is not the role's to
    write; the role's own is compared like any rendered file."""
    main = tmp_path / "Caddyfile"
    spec = {"server": "caddy", "caddyfile": {"path": str(main), "site_file": str(tmp_path / "port443-https.caddy"),
                                             "takeover": "refuse", "http2": True}}

    def no_dpkg(argv, stdin):
        return (1, "", "") if argv[0] == "dpkg-query" else run(argv, stdin)

    main.write_text(':8081 {\n\trespond "operator"\n}\n')
    state = ws.inspect(spec, no_dpkg)
    assert state["caddyfile"]["owner"] == "operator" and not state["caddyfile"]["write"]
    assert any("is the operator's" in d for d in state["drift"])
    main.write_text(':8081 {\n\trespond "operator"\n}\nimport port443-https.caddy\n')
    state = ws.inspect(spec, no_dpkg)
    assert state["caddyfile"]["owner"] == "operator-imports" and not state["caddyfile"]["write"]
    assert not any("Caddyfile" in d for d in state["drift"])
    main.write_text("# Ansible managed - port443.https.webserver; edits are overwritten.\nimport port443-https.caddy\n")
    state = ws.inspect(spec, no_dpkg)
    assert state["caddyfile"]["owner"] == "collection" and state["caddyfile"]["write"]
    assert not any("Caddyfile" in d for d in state["drift"])
    main.unlink()
    state = ws.inspect(spec, no_dpkg)
    assert any(f"{main} is absent: the role takes it over" == d for d in state["drift"])
    assert "caddyfile" not in ws.inspect({"server": "nginx"}, no_dpkg)


def test_sites_state_reports_a_pending_takeover_a_conflict_and_an_unreadable_configuration(tmp_path):
    """The state step never reports converged while a taken-over site's link is still in sites-enabled/, while a
    vhost's names are served by an operator's site (the full path refuses it), or when the dump fails."""
    (tmp_path / "sites-available").mkdir()
    (tmp_path / "sites-enabled").mkdir()
    site = tmp_path / "sites-available" / "app"
    site.write_text("server { listen 80; server_name app.example; location / { proxy_pass http://127.0.0.1:8080; } }\n")
    link = tmp_path / "sites-enabled" / "app"
    link.symlink_to(site)
    dump = (f"# configuration file {tmp_path}/nginx.conf:\nhttp {{ include {tmp_path}/sites-enabled/*; }}\n"
            f"# configuration file {link}:\n{site.read_text()}")

    def nginx(argv, stdin):
        return (0, dump, "") if argv == ["nginx", "-T"] else (1, "", "")

    result = {}
    drift = ws.sites_state("nginx", [{"name": "app", "server_names": ["app.example"], "takeover": True}], nginx, result)
    assert drift == [f"takeover pending: {link} is still enabled"]
    assert result["takeover"]["app"]["body"] == ["location / {", "    proxy_pass http://127.0.0.1:8080;", "}"]
    # The whole decision, as webserver_sites_info returns it: the full path's sites.yml reads it from here.
    assert result["sites"]["disable"] == [str(link)] and result["sites"]["conflicts"] == result["sites"]["refusals"] == []
    assert result["sites"]["takeover"] is result["takeover"]
    refused = {}
    drift = ws.sites_state("nginx", [{"name": "app", "server_names": ["app.example"]}], nginx, refused)
    assert len(drift) == 1 and drift[0].startswith(f"refused: vhost app: app.example already served by {link}:1")
    assert refused["sites"]["conflicts"] == [drift[0][len("refused: "):]]
    broken = {}
    assert ws.sites_state("nginx", [], lambda argv, stdin: (1, "", "[emerg] bad"), broken)[0].startswith(
        "the sites of nginx could not be read: the live nginx configuration was already broken before this run (nginx -T failed")
    assert broken["sites"]["error"].startswith("The sites of nginx could not be read: the live nginx configuration was already broken")


def test_tls_served_sections_and_files(tmp_path):
    nginx = ("# managed\n# --- www: TLS profile intermediate (x)\nserver {\n    listen 80;\n"
             "    location / {\n        return 301 https://$host$request_uri;\n    }\n}\n\nserver {\n    listen 443 ssl;\n"
             "    ssl_certificate /etc/ssl/port443/www-fullchain.crt;\n}\n"
             "# --- boot: TLS profile intermediate (x)\nserver {\n    listen 80;\n    # No certificate yet\n"
             "    location / {\n        return 404;\n    }\n}\n")
    assert ws.tls_served(nginx) == ["www"]
    caddy = ("# --- a: TLS profile modern (x)\nhttp://a.example {\n    handle {\n        redir https://{host}{uri} 301\n"
             "    }\n}\n\nhttps://a.example {\n    tls /x.crt /x.key\n}\n"
             "# --- b: TLS profile modern (x)\nhttp://b.example {\n    respond 404\n}\n")
    assert ws.tls_served(caddy) == ["a"]
    apache = ("# --- c: TLS profile intermediate (x)\n<VirtualHost *:80>\n    RewriteRule ^ https://%{HTTP_HOST} [R=301,L]\n"
              "</VirtualHost>\n<VirtualHost *:443>\n    SSLEngine on\n</VirtualHost>\n")
    assert ws.tls_served(apache) == ["c"]
    # Redirects to https:// are not TLS served; a file without sections serves nothing.
    assert ws.tls_served("# --- d: x\nserver {\n    return 301 https://$host;\n}\n") == []
    assert ws.tls_served("ssl_certificate /x;\n") == []
    live = tmp_path / "port443-https.conf"
    live.write_text(nginx + apache, encoding="utf-8")
    assert ws.tls_served_files([str(live), str(tmp_path / "absent.conf")]) == ["www", "c"]
    assert ws.tls_served_files([]) == []


def test_names_ocsp_reads_the_certificate(tmp_path):
    """OCSP stapling is left off only for a certificate that plainly names no OCSP responder."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)

    def cert(ocsp: bool) -> bytes:
        builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")])).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)))
        if ocsp:
            builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://ocsp.example.org"))]), critical=False)
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    with_ocsp, without, garbage = tmp_path / "a.crt", tmp_path / "b.crt", tmp_path / "c.crt"
    with_ocsp.write_bytes(cert(True))
    without.write_bytes(cert(False))
    garbage.write_bytes(b"not a certificate")
    assert ws.names_ocsp(str(with_ocsp)) is True
    assert ws.names_ocsp(str(without)) is False
    # Unreadable or unparsable: the user's choice stands (the server's checker judges the file).
    assert ws.names_ocsp(str(garbage)) is True
    assert ws.names_ocsp(str(tmp_path / "gone.crt")) is True


def test_inspect_reads_who_holds_the_ports():
    """The full path stops before any change when another process holds 80 or 443: the state step reads it (the same
    check as webserver_apply's preflight), and an unreadable socket list is the refusal too."""
    ss = ('LISTEN 0 511 0.0.0.0:80 0.0.0.0:* users:(("nginx",pid=100,fd=6))\n'
          'LISTEN 0 5 0.0.0.0:443 0.0.0.0:* users:(("python3",pid=812,fd=3))\n')

    def host(answer):
        def run(argv, stdin):
            del stdin
            return answer if argv[0] == "ss" else (1, "", "")
        return run

    state = ws.inspect({"server": "nginx", "service": "nginx"}, host((0, ss, "")))
    assert state["port_refusal"].startswith("0.0.0.0:443 is in use by ") and "pid 812" in state["port_refusal"]
    assert state["port_refusal"].endswith("nginx could not listen there. Stop that process or move it to another port, then run again.")
    free = ws.inspect({"server": "nginx", "service": "nginx"}, host((0, "", "")))
    assert free["port_refusal"] == ""
    broken = ws.inspect({"server": "nginx", "service": "nginx"}, host((127, "", "ss not found")))
    assert "install iproute2" in broken["port_refusal"]
