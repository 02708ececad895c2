"""The git ledger: the only code that reads or writes a target's repository."""

from daemon.errors import LedgerError
from daemon.ledger.messages import TRAILER_PREFIX, Identity, format_message, parse_trailers
from daemon.ledger.repo import Ledger, open_ledger

__all__ = [
    "TRAILER_PREFIX",
    "Identity",
    "Ledger",
    "LedgerError",
    "format_message",
    "open_ledger",
    "parse_trailers",
]
