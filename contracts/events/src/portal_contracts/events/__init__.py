"""All event types of all contexts, one module per context."""

from portal_contracts.events.identity import (
    AccountRegistered,
    LoginFailed,
    LoginSucceeded,
    PasswordChanged,
    QrLoginApproved,
    QrLoginCompleted,
    QrLoginRequested,
    SessionRevoked,
    UserInvited,
    UserProfileUpdated,
    UserRegistered,
    UserRoleChanged,
)
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
    "AccountRegistered",
    "DebitRejected",
    "LoginFailed",
    "LoginSucceeded",
    "PasswordChanged",
    "QrLoginApproved",
    "QrLoginCompleted",
    "QrLoginRequested",
    "SessionRevoked",
    "TopUpCompleted",
    "TopUpFailed",
    "TopUpRequested",
    "UserInvited",
    "UserProfileUpdated",
    "UserRegistered",
    "UserRoleChanged",
    "WalletCredited",
    "WalletDebited",
    "WalletOpened",
]
