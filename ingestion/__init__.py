"""Source connectors: land every source file in the raw schema with lineage.

See ingestion/README.md for the source kinds, the landing rules, the quarantine and the
reconciliation.
"""

from .config import SourceConfig, SourcesConfig, load_config
from .connectors.odata import fetch_odata
from .core import (
    LoadResult,
    PendingFile,
    discover,
    discover_all,
    ensure_schema,
    ingest_inbox,
    load_file,
)
from .errors import IngestionError

__all__ = [
    "IngestionError",
    "LoadResult",
    "PendingFile",
    "SourceConfig",
    "SourcesConfig",
    "discover",
    "discover_all",
    "ensure_schema",
    "fetch_odata",
    "ingest_inbox",
    "load_config",
    "load_file",
]
