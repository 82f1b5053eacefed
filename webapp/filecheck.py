"""Whole-file checks for evidence uploads: the magic bytes alone let an HTML page or a
script ride behind a valid header, so each kind is read to its end marker and nothing may
follow it (PNG: chunks to IEND; JPEG: segments to EOI; PDF: ends with %%EOF, no markup).
"""

from __future__ import annotations

import re
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Markup a browser would render or run, wherever it sits in a PDF.
_MARKUP = re.compile(rb"<\s*(?:html|script|body|iframe|svg|!doctype)\b", re.IGNORECASE)
_TAIL = b" \t\r\n\x00"  # what editors leave after the end marker


def problem(content_type: str, content: bytes) -> str | None:
    """Why `content` is not a whole file of `content_type`, in Chinese; None when it is."""
    return CHECKS[content_type](content)


def _png(content: bytes) -> str | None:
    pos, first = len(PNG_SIGNATURE), True
    while pos + 12 <= len(content):
        (length,) = struct.unpack(">I", content[pos : pos + 4])
        kind = content[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(content):
            break
        body = content[pos + 8 : pos + 8 + length]
        if struct.unpack(">I", content[end - 4 : end])[0] != zlib.crc32(kind + body):
            return "PNG 图片已损坏（数据块校验失败）。"
        if first and kind != b"IHDR":
            break
        first = False
        pos = end
        if kind == b"IEND":
            return None if not content[pos:].strip(_TAIL) else "PNG 图片结束标记之后还有其他数据。"
    return "PNG 图片不完整或已损坏（缺少结束标记 IEND）。"


def _jpeg(content: bytes) -> str | None:
    """Segments from SOI; after each SOS the entropy-coded data runs to the next marker."""
    pos, size = 2, len(content)
    while pos + 4 <= size:
        if content[pos] != 0xFF:
            break
        marker = content[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # EOI
            tail = content[pos + 2 :]
            return None if not tail.strip(_TAIL) else "JPEG 图片结束标记之后还有其他数据。"
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", content[pos + 2 : pos + 4])
        pos += 2 + length
        if marker == 0xDA:  # start of scan: skip the coded data
            while pos + 1 < size and not (
                content[pos] == 0xFF and content[pos + 1] not in (0x00, *range(0xD0, 0xD8))
            ):
                pos += 1
    if pos + 2 == size and content[pos:] == b"\xff\xd9":
        return None
    return "JPEG 图片不完整或已损坏（缺少结束标记 EOI）。"


def _pdf(content: bytes) -> str | None:
    if _MARKUP.search(content):
        return "PDF 文件中含有网页或脚本内容，不予接收。"
    if not content.rstrip(_TAIL).endswith(b"%%EOF"):
        return "PDF 文件不完整或已损坏（结尾缺少 %%EOF）。"
    return None


CHECKS = {"application/pdf": _pdf, "image/jpeg": _jpeg, "image/png": _png}
