#!/usr/bin/env python3
"""Trims a saved article page for the demo site: removes <script> elements other than JSON-LD (templates read
dates and authors from it), <style>, <noscript>, <iframe>, inline <svg> and HTML comments. Everything else (the
article markup, menus, related-article boxes: what baotin has to see through) is kept byte for byte.
Usage: demo/trim-page.py IN.html OUT.html"""
import re
import sys

data = open(sys.argv[1], encoding="utf-8", newline="").read()
before = len(data)


def drop_script(m):
    return m.group(0) if re.search(r"""type\s*=\s*["']?application/ld\+json""", m.group(1), re.I) else ""


data = re.sub(r"<script\b([^>]*)>.*?</script\s*>", drop_script, data, flags=re.S | re.I)
for tag in ("style", "noscript", "iframe", "svg"):
    data = re.sub(r"<%s\b[^>]*>.*?</%s\s*>" % (tag, tag), "", data, flags=re.S | re.I)
data = re.sub(r"<!--(?!\[if).*?-->", "", data, flags=re.S)
data = re.sub(r"(\r?\n)(?:[ \t]*\r?\n)+", r"\1", data)  # the blank lines left behind
open(sys.argv[2], "w", encoding="utf-8", newline="").write(data)
print(f"{sys.argv[1]}: {before} -> {len(data)} characters", file=sys.stderr)
