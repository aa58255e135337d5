"""All event types of all contexts, one module per context."""

from portal_contracts.events.wallet import (
    DebitRejected,
    TopUpCompleted,
    TopUpFailed,
    TopUpRequested,
    WalletCredited,
    WalletDebited,
    WalletOpened,
)

__all__ = [
    "DebitRejected",
    "TopUpCompleted",
    "TopUpFailed",
    "TopUpRequested",
    "WalletCredited",
    "WalletDebited",
    "WalletOpened",
]
