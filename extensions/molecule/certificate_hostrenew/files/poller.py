#!/usr/bin/python3
"""The scenario's independent oracle: poll HTTPS on every target with full verification (Python's ssl with pebble's
root, the site's name checked), an HTTP GET each time, and record every serial served, until the pool and the wildcard
host have each been seen on RENEWALS new certificates and the pool's members agree, or the deadline passes.

    poller.py OUT.json DEADLINE_SECONDS RENEWALS CA_FILE LABEL=ADDRESS/NAME ...   (LABEL pool-* or wild)
"""
import json
import os
import socket
import ssl
import sys
import time

from cryptography import x509


def poll(address, name, context):
    with socket.create_connection((address, 443), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=name) as tls:
            serial = format(x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)).serial_number, "x")
            tls.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
            status = tls.recv(64).split(b"\r\n")[0].decode()
    if " 200 " not in status + " ":
        raise RuntimeError(f"HTTP status {status!r}")
    return serial


def main():
    out, deadline, renewals, ca_file = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    targets = {}
    for arg in sys.argv[5:]:
        label, rest = arg.split("=", 1)
        address, name = rest.split("/", 1)
        targets[label] = {"address": socket.gethostbyname(address), "name": name, "polls": 0, "failures": [],
                          "serials": []}
    context = ssl.create_default_context(cafile=ca_file)
    started = time.time()
    state = {"started": started, "done": False, "targets": targets}
    while time.time() - started < deadline:
        for target in targets.values():
            target["polls"] += 1
            try:
                serial = poll(target["address"], target["name"], context)
                if not target["serials"] or target["serials"][-1] != serial:
                    target["serials"].append(serial)
            except Exception as exc:  # noqa: BLE001 - every failure counts
                target["failures"].append(f"{time.strftime('%H:%M:%S')} {exc}")
        pool = [t for label, t in targets.items() if label.startswith("pool")]
        others = [t for label, t in targets.items() if not label.startswith("pool")]
        state["done"] = all(len(set(t["serials"])) > renewals for t in pool + others) \
            and len({t["serials"][-1] if t["serials"] else "" for t in pool}) <= 1
        state["seconds"] = round(time.time() - started, 1)
        # Serials first served after polling started (each must come from an order pebble logged meanwhile).
        state["new"] = sorted({int(serial, 16) for t in targets.values() for serial in t["serials"][1:]})
        with open(out + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(state, handle)
        os.replace(out + ".tmp", out)
        if state["done"]:
            break
        time.sleep(0.5)
    state["finished"] = True
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(state, handle)


main()
