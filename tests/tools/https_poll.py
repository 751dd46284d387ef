# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: port443.https contributors
"""Poll HTTPS on a list of targets while something runs (a re-run of enable_https, a renewal), and tell afterwards
whether any of them stopped answering. Plain Python 3 (stdlib only): it runs on the controller or inside a lab
container.

    # in the background, until SIGTERM/SIGINT, the stop file, --duration or --max-polls
    python3 https_poll.py --out /tmp/poll.json --stop-file /tmp/poll.stop --interval 0.25 \\
        --target web1=10.0.0.5:443/pool.dns.test --target web2=web2:443/pool.dns.test [--ca ca.pem] &
    touch /tmp/poll.stop          # or kill -TERM PID; the JSON is written when the poller ends

    python3 https_poll.py --summary /tmp/poll.json [--members web1,web2,web3]
        # polls, failures and longest gap per target; with --members the fewest of them serving at any instant

A poll is one TCP connection, a TLS handshake with the target's SNI (the certificate verified against --ca when given)
and one GET / answered with an HTTP status line, within --timeout seconds. Each target is polled by its own thread,
every --interval seconds (at least twice a second by default: 0.25). The JSON holds per target: polls, failures,
longest_gap (seconds without a successful answer: from the start to the first success, between two successes, from
the last success to the end), the certificate fingerprints seen, the serial numbers seen in the order they were first
served (hex), and the timeline [[t, ok, detail], ...] (t in seconds since the poller started, detail the certificate's
SHA-256 fingerprint prefix and serial, or the error)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
import typing as t

Timeline = t.List[t.List[t.Any]]


def parse_target(text: str) -> dict[str, t.Any]:
    """NAME=HOST:PORT[/SNI] (NAME defaults to HOST, PORT to 443, SNI to HOST)."""
    name, sep, rest = text.partition("=")
    if not sep:
        name, rest = "", text
    address, _slash, sni = rest.partition("/")
    host, colon, port = address.rpartition(":")
    if not colon:
        host, port = address, "443"
    if not host or not port.isdigit():
        raise ValueError(f"target {text!r}: expected NAME=HOST:PORT[/SNI]")
    return {"name": name or host, "host": host, "port": int(port), "sni": sni or host}


def _tlv(der: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, offset of the value, length) of the DER element at POS."""
    tag, first = der[pos], der[pos + 1]
    if first < 0x80:
        return tag, pos + 2, first
    count = first & 0x7F
    return tag, pos + 2 + count, int.from_bytes(der[pos + 2:pos + 2 + count], "big")


def serial_of(der: bytes) -> str:
    """The serial number of a DER certificate in hex ('' when it cannot be read): Certificate > tbsCertificate >
    [0] version (optional) > serialNumber."""
    try:
        _tag, pos, _len = _tlv(der, 0)
        _tag, pos, _len = _tlv(der, pos)
        tag, value, length = _tlv(der, pos)
        if tag == 0xA0:
            tag, value, length = _tlv(der, value + length)
        return format(int.from_bytes(der[value:value + length], "big"), "x") if tag == 0x02 else ""
    except IndexError:
        return ""


def poll_once(target: dict[str, t.Any], timeout: float, context: ssl.SSLContext) -> tuple[bool, str]:
    """One TLS handshake and GET /: (True, fingerprint prefix of the served certificate) or (False, the error)."""
    try:
        with socket.create_connection((target["host"], target["port"]), timeout=timeout) as raw:
            raw.settimeout(timeout)
            with context.wrap_socket(raw, server_hostname=target["sni"]) as tls:
                der = tls.getpeercert(binary_form=True) or b""
                tls.sendall(f"GET / HTTP/1.1\r\nHost: {target['sni']}\r\nConnection: close\r\n\r\n".encode("ascii"))
                head = b""
                while b"\r\n" not in head and len(head) < 4096:
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    head += chunk
        status = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = status.split()
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            return False, f"no HTTP status line: {status[:60]!r}"
        return True, hashlib.sha256(der).hexdigest()[:16] + (f" serial {serial_of(der)}" if der else "")
    except (OSError, ssl.SSLError, ValueError) as exc:
        return False, f"{type(exc).__name__}: {exc}"[:200]


def longest_gap(timeline: Timeline, start: float, end: float) -> float:
    """Longest time without a successful answer within [start, end]: before the first success, between two
    successes, after the last one (the whole window when nothing succeeded)."""
    last = start
    gap = 0.0
    for when, ok, *_rest in timeline:
        if ok:
            gap = max(gap, when - last)
            last = when
    return round(max(gap, end - last), 3)


def serving_intervals(timeline: Timeline, end: float) -> list[tuple[float, float]]:
    """When a target served: each result holds until the next one (the last until end); a success serves, a failure
    does not. Adjacent serving results are merged."""
    intervals: list[tuple[float, float]] = []
    for i, (when, ok, *_rest) in enumerate(timeline):
        until = timeline[i + 1][0] if i + 1 < len(timeline) else end
        if not ok or until <= when:
            continue
        if intervals and intervals[-1][1] >= when:
            intervals[-1] = (intervals[-1][0], max(intervals[-1][1], until))
        else:
            intervals.append((when, until))
    return intervals


def min_serving(timelines: dict[str, Timeline], start: float | None = None,
                end: float | None = None) -> dict[str, t.Any]:
    """Fewest members serving at any instant of [start, end] (default: from the latest first result to the latest
    last result of the members), with the first instant it happened and how long it lasted in total."""
    if not timelines or any(not tl for tl in timelines.values()):
        raise ValueError("min_serving needs at least one result per member")
    start = max(tl[0][0] for tl in timelines.values()) if start is None else start
    end = max(tl[-1][0] for tl in timelines.values()) if end is None else end
    if end < start:
        raise ValueError(f"empty window: start {start} after end {end}")
    events: list[tuple[float, int]] = []
    for timeline in timelines.values():
        for begin, until in serving_intervals(timeline, end):
            begin, until = max(begin, start), min(until, end)
            if until > begin:
                events += [(begin, 1), (until, -1)]
    # The count is taken over stretches of positive length only: every event of one instant is applied first.
    events.sort(key=lambda e: (e[0], e[1]))
    count, lowest, at, seconds = 0, None, start, 0.0
    now = start
    for when, delta in events + [(end, 0)]:
        if when > now:
            if lowest is None or count < lowest:
                lowest, at, seconds = count, now, 0.0
            if count == lowest:
                seconds += when - now
            now = when
        count += delta
    if lowest is None:  # a window of zero length: the count at that instant
        lowest = count
    return {"min_serving": lowest, "at": round(at, 3), "seconds": round(seconds, 3), "members": len(timelines),
            "window": [round(start, 3), round(end, 3)]}


def summarize(report: dict[str, t.Any], members: list[str] | None = None) -> dict[str, t.Any]:
    """Figures of a poller JSON file: per target polls, failures, longest gap; with members, min_serving of them."""
    out: dict[str, t.Any] = {"duration": report["duration"], "targets": {}}
    for name, data in report["targets"].items():
        out["targets"][name] = {k: data[k] for k in ("polls", "failures", "longest_gap", "fingerprints", "last")}
        if data["failures"]:
            # Why the polls failed, and when (seconds from the start): what a failed assertion should show.
            out["targets"][name]["errors"] = data["errors"]
            out["targets"][name]["failed_at"] = [round(r[0], 2) for r in data["timeline"] if not r[1]][:10]
    if members:
        unknown = [m for m in members if m not in report["targets"]]
        if unknown:
            raise ValueError(f"members not polled: {', '.join(unknown)}")
        # From the instant every member has answered once (before that the poller had not asked them all yet).
        out["serving"] = min_serving({m: report["targets"][m]["timeline"] for m in members}, None, report["duration"])
    return out


class Poller:
    def __init__(self, targets: list[dict[str, t.Any]], interval: float, timeout: float, ca: str | None) -> None:
        self.targets = targets
        self.interval = interval
        self.timeout = timeout
        if ca:
            self.context = ssl.create_default_context(cafile=ca)
        else:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self.context.check_hostname = False
            self.context.verify_mode = ssl.CERT_NONE
        self.stop = threading.Event()
        self.start = time.monotonic()
        self.started_at = time.time()
        self.timelines: dict[str, Timeline] = {tg["name"]: [] for tg in targets}
        self.polls_left: dict[str, int | None] = {}

    def _run(self, target: dict[str, t.Any], max_polls: int | None) -> None:
        timeline = self.timelines[target["name"]]
        tick = self.start
        while not self.stop.is_set() and (max_polls is None or len(timeline) < max_polls):
            began = time.monotonic()
            ok, detail = poll_once(target, self.timeout, self.context)
            timeline.append([round(began - self.start, 3), ok, detail])
            tick = max(tick + self.interval, time.monotonic())
            self.stop.wait(max(0.0, tick - time.monotonic()))

    def run(self, duration: float, max_polls: int | None, stop_file: str | None) -> float:
        threads = [threading.Thread(target=self._run, args=(tg, max_polls), daemon=True) for tg in self.targets]
        for thread in threads:
            thread.start()
        deadline = self.start + duration
        while not self.stop.is_set() and time.monotonic() < deadline and any(th.is_alive() for th in threads):
            if stop_file and os.path.exists(stop_file):
                break
            self.stop.wait(0.1)
        end = time.monotonic() - self.start
        self.stop.set()
        for thread in threads:
            thread.join(self.timeout + 1)
        return end

    def report(self, end: float) -> dict[str, t.Any]:
        targets = {}
        for tg in self.targets:
            timeline = [list(r) for r in self.timelines[tg["name"]] if r[0] <= end]
            oks = [r for r in timeline if r[1]]
            targets[tg["name"]] = {
                "host": tg["host"], "port": tg["port"], "sni": tg["sni"], "polls": len(timeline),
                "failures": len(timeline) - len(oks), "longest_gap": longest_gap(timeline, 0.0, end),
                "fingerprints": sorted({r[2].split()[0] for r in oks}), "last": oks[-1][2].split()[0] if oks else None,
                "serials": list(dict.fromkeys(r[2].split(" serial ")[1] for r in oks if " serial " in r[2])),
                "errors": sorted({r[2] for r in timeline if not r[1]})[:10], "timeline": timeline}
        return {"started_at": self.started_at, "duration": round(end, 3), "interval": self.interval,
                "timeout": self.timeout, "verified": self.context.verify_mode != ssl.CERT_NONE, "targets": targets}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--target", action="append", default=[], help="NAME=HOST:PORT[/SNI], repeatable")
    parser.add_argument("--out", help="JSON file written when the poller ends")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between polls of one target (<= 0.5)")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds for one poll")
    parser.add_argument("--ca", help="CA file: verify the served certificate and its name")
    parser.add_argument("--duration", type=float, default=900.0, help="stop after this many seconds")
    parser.add_argument("--max-polls", type=int, help="stop a target after this many polls")
    parser.add_argument("--stop-file", help="stop when this file exists")
    parser.add_argument("--pid-file", help="write the poller's PID here once it polls")
    parser.add_argument("--summary", help="print the figures of a poller JSON file instead of polling")
    parser.add_argument("--members", help="with --summary: comma-separated targets whose min_serving is computed")
    args = parser.parse_args(argv)

    if args.summary:
        with open(args.summary, encoding="utf-8") as handle:
            report = json.load(handle)
        members = [m for m in (args.members or "").split(",") if m]
        print(json.dumps(summarize(report, members), indent=1, sort_keys=True))
        return 0
    if not args.target or not args.out:
        parser.error("--target and --out are required to poll")
    if not 0 < args.interval <= 0.5:
        parser.error("--interval must be above 0 and at most 0.5 (at least two polls a second)")
    targets = [parse_target(text) for text in args.target]
    poller = Poller(targets, args.interval, args.timeout, args.ca)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_unused: poller.stop.set())
    if args.pid_file:
        with open(args.pid_file, "w", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
    end = poller.run(args.duration, args.max_polls, args.stop_file)
    report = poller.report(end)
    tmp = f"{args.out}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    os.replace(tmp, args.out)
    print(json.dumps(summarize(report)["targets"], sort_keys=True), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
