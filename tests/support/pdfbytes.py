"""Reading the structure of a PDF the tests wrote: inflate its streams, find page count, tags, links."""

from __future__ import annotations

import re
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def inflate(data: bytes) -> bytes:
    """The file's bytes followed by every Flate stream inflated (object streams included)."""
    parts = [data]
    for match in _STREAM.finditer(data):
        try:
            parts.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(parts)


def page_count(data: bytes) -> int:
    """/Count of the page tree's root (the /Pages dictionary without a /Parent)."""
    text = inflate(data)
    counts = []
    for match in re.finditer(rb"/Type\s*/Pages", text):
        start = text.rfind(b"<<", 0, match.start())
        end = text.find(b">>", match.end())
        body = text[start:end]
        if b"/Parent" in body:
            continue
        found = re.search(rb"/Count\s+(\d+)", body)
        if found:
            counts.append(int(found.group(1)))
    assert len(counts) == 1, counts
    return counts[0]
