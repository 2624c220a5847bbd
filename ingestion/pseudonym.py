"""Respondent ids are pseudonymised at ingestion: HMAC-SHA256 keyed by BASISMONITOR_PSEUDONYM_KEY.

The HMAC is computed inside DuckDB (two sha256 calls on blobs), so a national wave is keyed without
a Python loop. ``hmac_sql`` gives the expression; ``pseudonymise`` is the same in Python (tests).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import warnings
from pathlib import Path

ENV_KEY = "BASISMONITOR_PSEUDONYM_KEY"
DEMO_KEY = "demo-only-not-secret"
_warned = False


class DemoKeyWarning(UserWarning):
    """The pseudonymisation key is the documented demo default."""


def key() -> bytes:
    """The pseudonymisation key; warns once per process when the demo default is used."""
    global _warned
    value = os.environ.get(ENV_KEY)
    if value:
        return value.encode("utf-8")
    if not _warned:
        _warned = True
        warnings.warn(
            f"{ENV_KEY} is not set: respondent ids are pseudonymised with the demo key "
            f"{DEMO_KEY!r}. Set {ENV_KEY} to a secret for real survey data.",
            DemoKeyWarning,
            stacklevel=3,
        )
    return DEMO_KEY.encode("utf-8")


# A key shorter than this is refused for survey files that are not the demo's own: respondent
# ids are short and guessable, so with a known or weak key every pseudonym can be reversed by
# trying all ids (issue 23: 1,500 keys of a wave in under a second with the public demo key).
# deploy/make_env.py generates 64 hex characters (256 bits).
MIN_KEY_LENGTH = 32
DEMO_MANIFEST = "_demo_manifest.json"


class KeyRefused(ValueError):
    """No usable pseudonymisation key for this file (the message says why and what to do)."""


def demo_file(path: Path, sha256: str) -> bool:
    """True when the file is one `basismonitor demo` generated: listed with these bytes (sha256)
    in the manifest at the root of the inbox it lies in (inbox/<source>/<period>/<file>)."""
    path = Path(path)
    inbox = path.parent.parent.parent
    manifest = inbox / DEMO_MANIFEST
    if manifest.is_symlink() or not manifest.is_file():
        return False
    try:
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", [])
        rel = path.relative_to(inbox).as_posix()
    except (ValueError, OSError, AttributeError):
        return False
    return any(isinstance(f, dict) and f.get("path") == rel and f.get("sha256") == sha256
               for f in files)


def key_for_file(path: Path, sha256: str, what: str = "survey respondents"
                 ) -> tuple[bytes, str | None]:
    """The key to pseudonymise a survey (or incident) file with, and a note for the load (demo
    key) or None.

    Real survey and incident data needs BASISMONITOR_PSEUDONYM_KEY of at least MIN_KEY_LENGTH characters;
    the demo's own files (see demo_file) may use the public demo key, and say so."""
    value = os.environ.get(ENV_KEY) or ""
    if len(value) >= MIN_KEY_LENGTH:
        return value.encode("utf-8"), None
    if demo_file(path, sha256):
        if value:
            return value.encode("utf-8"), (f"pseudonymised with a short key ({len(value)} "
                                           "characters): demo data only")
        return DEMO_KEY.encode("utf-8"), (f"pseudonymised with the public demo key "
                                          f"{DEMO_KEY!r}: demo data, not for real respondents")
    if not value:
        raise KeyRefused(
            f"{ENV_KEY} is not set: {what} cannot be pseudonymised (only the demo's "
            "own files may use the public demo key, which makes pseudonyms reversible)")
    raise KeyRefused(
        f"{ENV_KEY} has {len(value)} characters, fewer than {MIN_KEY_LENGTH}: too weak to keep "
        "pseudonyms from being reversed by trying every respondent id")


KEY_HINT = (f"set {ENV_KEY} to a secret of at least {MIN_KEY_LENGTH} characters (python -c "
            "'import secrets; print(secrets.token_hex(32))', or deploy/make_env.py) and keep a "
            "backup: pseudonyms made with another key do not match")


def pseudonymise(respondent_id: str, secret: bytes | None = None) -> str:
    return hmac.new(secret if secret is not None else key(), respondent_id.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def hmac_sql(expr: str, secret: bytes | None = None) -> str:
    """SQL for hex(HMAC-SHA256(key, utf8(expr))) -- equal to pseudonymise()."""
    k = secret if secret is not None else key()
    if len(k) > 64:
        k = hashlib.sha256(k).digest()
    k = k.ljust(64, b"\0")
    ipad = bytes(b ^ 0x36 for b in k).hex()
    opad = bytes(b ^ 0x5C for b in k).hex()
    return (f"sha256(unhex('{opad}') || unhex(sha256(unhex('{ipad}') || encode({expr}))))")
