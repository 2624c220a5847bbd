#!/usr/bin/env python3
"""Create the compose `.env` from deploy/.env.example with freshly generated secrets.

    python3 deploy/make_env.py            # writes ./.env (refuses to overwrite)
    python3 deploy/make_env.py -o FILE    # writes FILE
    python3 deploy/make_env.py --force    # overwrite an existing file

Only the standard library is used, so it runs on the host without the project installed.
Every secret left empty in the example gets a random value; everything else is copied as is.
Keep the result out of git and back up BASISMONITOR_PSEUDONYM_KEY: pseudonyms made with one
key cannot be linked to those made with another.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE / ".env.example"


def _fernet_key() -> str:
    # Same format as cryptography.fernet.Fernet.generate_key(): 32 random bytes, url-safe base64.
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


GENERATORS = {
    "POSTGRES_PASSWORD": lambda: secrets.token_urlsafe(24),
    "AIRFLOW_FERNET_KEY": _fernet_key,
    "AIRFLOW_JWT_SECRET": lambda: secrets.token_urlsafe(48),
    "AIRFLOW_API_SECRET_KEY": lambda: secrets.token_urlsafe(48),
    "AIRFLOW_ADMIN_PASSWORD": lambda: secrets.token_urlsafe(18),
    "BASISMONITOR_PSEUDONYM_KEY": lambda: secrets.token_hex(32),
    "FLOWER_BASIC_AUTH": lambda: f"flower:{secrets.token_urlsafe(18)}",
}


def render(example_text: str) -> str:
    out = []
    for line in example_text.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#") and name in GENERATORS and not value:
            line = f"{name}={GENERATORS[name]()}"
        out.append(line)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=Path(".env"))
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)
    if args.output.exists() and not args.force:
        print(f"{args.output} exists; not overwriting (use --force)", file=sys.stderr)
        return 1
    args.output.write_text(render(EXAMPLE.read_text()))
    args.output.chmod(0o600)
    print(f"wrote {args.output} (generated: {', '.join(GENERATORS)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
