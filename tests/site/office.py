"""LibreOffice (headless) and poppler for the tests that open the downloads as a reader does.

Tests that need them skip with the reason where they are absent (.ci/run installs Debian's
libreoffice-calc and poppler-utils).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

# LibreOffice's CSV import: field separator ';' (59), text delimiter '"' (34), UTF-8 (76), from
# line 1, no column formats, language Dutch (Netherlands) (1043): what a Dutch desktop does
DUTCH_CSV_FILTER = "CSV:59,34,76,1,,1043"


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc)")
    return found


def pdftotext() -> str:
    found = shutil.which("pdftotext")
    if found is None:
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    return found


def convert(source: Path, to: str, out: Path, *, infilter: str | None = None,
            timeout: float = 600) -> tuple[Path, float]:
    """`soffice --headless --convert-to <to>` with a profile of its own; (result, seconds)."""
    out.mkdir(parents=True, exist_ok=True)
    profile = out / f".lo-profile-{source.stem}"
    command = [soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless",
               "--norestore", "--convert-to", to, "--outdir", str(out)]
    if infilter:
        command.append(f"--infilter={infilter}")
    command.append(str(source))
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    seconds = time.monotonic() - started
    result = out / f"{source.stem}.{to.split(':')[0]}"
    assert result.exists(), f"LibreOffice did not convert {source.name}: {done.stdout}{done.stderr}"
    return result, seconds


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page (pdftotext -layout)."""
    text = subprocess.run([pdftotext(), "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def pdf_page_size(pdf: Path) -> tuple[float, float]:
    info = shutil.which("pdfinfo")
    if info is None:
        pytest.skip("pdfinfo is not installed (apt-get install poppler-utils)")
    out = subprocess.run([info, str(pdf)], check=True, capture_output=True, text=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("Page size:"))
    width, _, height = line.split(":", 1)[1].split()[:3]
    return float(width), float(height)
