"""Respondent ids are pseudonymised at ingestion: HMAC-SHA256 keyed by BASISMONITOR_PSEUDONYM_KEY.

The HMAC is computed inside DuckDB (two sha256 calls on blobs), so a national wave is keyed without
a Python loop. ``hmac_sql`` gives the expression; ``pseudonymise`` is the same in Python (tests).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import warnings

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
