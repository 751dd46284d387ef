# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Record real server answers to the collection's hand-built ClientHellos, for the unit tests of _hello.

Each case starts `openssl s_server` with chosen options, sends one ClientHello built by _hello.client_hello with a
fixed random (so the bytes are reproducible), and stores the ClientHello and everything the server sent until it
stopped talking, as hex, in tests/unit/data/hello/<case>.json together with what the parser must read from it.
The post-quantum case needs OpenSSL 3.5: it runs s_server in the lab's Debian 13 image (port443-lab/debian:trixie,
host network) when Docker and that image are there, and is left as recorded otherwise.

Run from the collection root with PYTHONPATH pointing at the directory holding ansible_collections:
  python tests/tools/record_hellos.py
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from ansible_collections.port443.https.plugins.module_utils.probe import _hello

OUT = os.path.join(os.path.dirname(__file__), "..", "unit", "data", "hello")
RANDOM = bytes(range(32))
SID = bytes(range(32, 64))

# case -> (s_server options, version, suites, groups, want_key_exchange, OpenSSL 3.5 needed)
CASES = {
    "tls13_hrr_x25519": (["-tls1_3"], "1.3", [0x1302, 0x1301], [0x001D, 0x0017], False, False),
    "tls13_hrr_x25519mlkem768": (["-tls1_3", "-groups", "X25519MLKEM768:X25519"], "1.3", [0x1301], [0x11EC, 0x001D], False, True),
    "tls12_ecdhe_secp384r1": (["-tls1_2", "-groups", "secp384r1"], "1.2", [0xC030, 0xC02F], [0x001D, 0x0018], True, False),
    "tls12_dhe_1024": (["-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256@SECLEVEL=0", "-dhparam", "{dh1024}"],
                       "1.2", [0x009E], [], True, False),
    "tls10_static_rsa": (["-tls1", "-cipher", "AES128-SHA@SECLEVEL=0"], "1.0", [0x002F, 0x0035], [], False, False),
    "tls12_handshake_failure": (["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"], "1.2", [0x000A, 0x0005], [0x001D], False, False),
    "tls10_protocol_version": (["-tls1_2"], "1.0", [0x002F], [], False, False),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def capture(port: int, hello: bytes) -> bytes:
    data = b""
    with socket.create_connection(("127.0.0.1", port), 5) as sock:
        sock.sendall(hello)
        sock.settimeout(1.0)
        while True:
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, TimeoutError):
                break
            if not chunk:
                break
            data += chunk
    return data


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="p443hello")
    key, cert, dh = (os.path.join(tmp, n) for n in ("key.pem", "cert.pem", "dh1024.pem"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-subj", "/CN=hello.test",
                    "-days", "30"], check=True, capture_output=True)
    subprocess.run(["openssl", "dhparam", "-out", dh, "1024"], check=True, capture_output=True)
    os.chmod(tmp, 0o755)
    for path in (key, cert, dh):
        os.chmod(path, 0o644)
    os.makedirs(OUT, exist_ok=True)
    for case, (options, version, suites, groups, want_kx, needs_35) in CASES.items():
        port = free_port()
        argv = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", cert, "-key", key, "-quiet", "-www"]
        argv += [o.format(dh1024=dh) for o in options]
        if needs_35:
            if not shutil.which("docker") or subprocess.run(["docker", "image", "inspect", "port443-lab/debian:trixie"],
                                                            capture_output=True, check=False).returncode:
                print(f"{case}: no Docker or no port443-lab/debian:trixie image; kept as recorded")
                continue
            argv = ["docker", "run", "--rm", "--name", f"p443hello{os.getpid()}", "--network", "host", "-v", f"{tmp}:{tmp}:ro",
                    "port443-lab/debian:trixie"] + argv
        server = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for _attempt in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            hello = _hello.client_hello(version, suites, groups, "hello.test", random=RANDOM, session_id=SID)
            answer_bytes = capture(port, hello)
            server_version = subprocess.run((["docker", "exec", f"p443hello{os.getpid()}"] if needs_35 else []) + ["openssl", "version"],
                                            capture_output=True, text=True, check=False).stdout.strip()
        finally:
            if needs_35:  # openssl is PID 1 of the container and ignores SIGTERM: remove the container
                subprocess.run(["docker", "rm", "-f", f"p443hello{os.getpid()}"], capture_output=True, check=False)
            server.terminate()
            server.wait()
        answer = _hello.parse_bytes(answer_bytes, want_kx)
        record = {
            "server": f"{server_version}: openssl s_server {' '.join(options)}",
            "client_hello": {"version": version, "suites": suites, "groups": groups, "server_name": "hello.test",
                             "random": RANDOM.hex(), "session_id": SID.hex(), "hex": hello.hex()},
            "want_key_exchange": want_kx,
            "answer_hex": answer_bytes.hex(),
            "expected": {"kind": answer.kind, "version": answer.version, "suite": answer.suite, "group": answer.group,
                         "alert": answer.alert, "dh_bits": answer.dh["p"].bit_length() if answer.dh else None},
        }
        with open(os.path.join(OUT, f"{case}.json"), "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1)
            f.write("\n")
        print(f"{case}: {answer!r}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
