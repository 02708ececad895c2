"""The state store: the only code that reads or writes the SQLite database."""

from daemon.store.database import DB_NAME, Store, open_store
from daemon.store.schema import SCHEMA_VERSION

__all__ = ["DB_NAME", "SCHEMA_VERSION", "Store", "open_store"]
