"""One streaming pass over a delivered file: sha256, encoding facts and blank lines.

Runs in chunks with bytes/numpy operations (no per-line Python), so a national survey CSV costs a
few tens of milliseconds.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CHUNK = 8 << 20
UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


@dataclass
class FileScan:
    path: Path
    size: int = 0
    sha256: str = ""
    is_ascii: bool = True
    utf8_valid: bool = True
    utf8_error_offset: int | None = None
    utf8_error_line: int | None = None
    utf8_error_byte: int | None = None
    has_utf8_multibyte: bool = False       # valid multi-byte UTF-8 sequences occur
    cp1252_error_offset: int | None = None
    cp1252_error_line: int | None = None
    bom: bool = False
    ends_with_newline: bool = True
    line_count: int = 0
    blank_lines: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def scan_file(path: Path, *, text: bool = True) -> FileScan:
    """Scan a file; with text=False only size and sha256 (binary formats)."""
    scan = FileScan(path=path)
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    newlines = 0
    prev_nl = -1            # global position of the previous newline
    prev_byte = -1          # last byte of the previous chunk
    blanks: list[np.ndarray] = []
    last = b""
    # O_NOFOLLOW: a file swapped for a symbolic link after discovery is not followed either
    with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            if text:
                if offset == 0 and chunk.startswith(codecs.BOM_UTF8):
                    scan.bom = True
                if scan.is_ascii and not chunk.isascii():
                    scan.is_ascii = False
                if scan.utf8_valid:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError as exc:
                        scan.utf8_valid = False
                        scan.utf8_error_offset = offset + exc.start
                        scan.utf8_error_byte = chunk[exc.start] if exc.start < len(chunk) else None
                        scan.utf8_error_line = newlines + chunk.count(b"\n", 0, exc.start) + 1
                if scan.cp1252_error_offset is None and not scan.is_ascii:
                    m = CP1252_UNDEFINED.search(chunk)
                    if m:
                        scan.cp1252_error_offset = offset + m.start()
                        scan.cp1252_error_line = newlines + chunk.count(b"\n", 0, m.start()) + 1
                arr = np.frombuffer(chunk, dtype=np.uint8)
                nl = np.flatnonzero(arr == 10)
                if nl.size:
                    starts = np.empty_like(nl)
                    starts[0] = prev_nl + 1 - offset
                    starts[1:] = nl[:-1] + 1
                    length = nl - starts
                    before = np.where(nl > 0, arr[np.maximum(nl - 1, 0)], prev_byte)
                    blank = (length == 0) | ((length == 1) & (before == 13))
                    if blank.any():
                        blanks.append(np.flatnonzero(blank) + newlines + 1)
                    prev_nl = offset + int(nl[-1])
                    newlines += int(nl.size)
                prev_byte = chunk[-1]
            last = chunk[-1:]
            offset += len(chunk)
    scan.size = offset
    scan.sha256 = digest.hexdigest()
    if text:
        if scan.utf8_valid:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                scan.utf8_valid = False
                scan.utf8_error_offset = offset - 1
                scan.utf8_error_line = newlines + 1
            scan.has_utf8_multibyte = scan.utf8_valid and not scan.is_ascii
        if not scan.utf8_valid:
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(CHUNK), b""):
                    if UTF8_MULTIBYTE.search(chunk):
                        scan.has_utf8_multibyte = True
                        break
        scan.ends_with_newline = last == b"\n" or offset == 0
        scan.line_count = newlines + (0 if scan.ends_with_newline else 1)
        scan.blank_lines = (np.concatenate(blanks) if blanks
                            else np.zeros(0, dtype=np.int64)).astype(np.int64)
    return scan
