#!/usr/bin/env python3
"""The demo site for `scripts/setup demo`: python3's http.server serving demo/site/ on 127.0.0.1:PORT, with the
outlets' own page extensions (.htm, cafef's .chn) sent as UTF-8 HTML and the feeds as RSS.
Usage: demo/serve.py PORT"""
import functools
import http.server
import os
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".htm": "text/html; charset=utf-8",
        ".chn": "text/html; charset=utf-8",
        ".xml": "application/rss+xml; charset=utf-8",
    }


def main():
    port = int(sys.argv[1])
    site = os.path.join(os.path.dirname(os.path.abspath(__file__)), "site")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=site))
    print(f"Serving HTTP on 127.0.0.1 port {port} ({site})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
