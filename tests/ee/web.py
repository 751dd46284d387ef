# SPDX-License-Identifier: GPL-3.0-or-later
"""The `ee-web` lab host of scripts/test ee: HTTPS on 443 (TLS 1.2+, AEAD ciphers, HSTS, 200 on /) and a redirect
to https:// on 80, with the certificate in /pki. Python's standard library only (the lab image has python3)."""

import http.server
import ssl
import threading


class Site(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"port443.https execution environment test\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Strict-Transport-Security", "max-age=31536000")
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET


class Redirect(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(301)
        self.send_header("Location", "https://ee-web" + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_HEAD = do_GET


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_2
ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
ctx.load_cert_chain("/pki/web.pem", "/pki/web.key")
https = http.server.ThreadingHTTPServer(("", 443), Site)
https.socket = ctx.wrap_socket(https.socket, server_side=True)
threading.Thread(target=http.server.ThreadingHTTPServer(("", 80), Redirect).serve_forever, daemon=True).start()
https.serve_forever()
