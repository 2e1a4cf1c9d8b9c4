"""lewie SAMs: reading, writing, checking and balancing household-group social accounting matrices.

Names are imported on first use, so that reading a SAM does not import the balancing code (SciPy).
"""
from __future__ import annotations

from lewie.lazy_imports import lazy_attribute

_LAZY = {"read_sam": ".io", "write_sam": ".io", "sam_from_frame": ".io",
         "parse_account": ".accounts", "account": ".accounts", "Account": ".accounts",
         "check_sam": ".check", "SamReport": ".check", "Problem": ".check",
         "ras": ".balance", "cross_entropy": ".balance", "BalanceResult": ".balance",
         "EconomyShares": ".shares", "sam_from_shares": ".shares", "shares_from_sam": ".shares"}


def __getattr__(name: str):
    return lazy_attribute(__name__, _LAZY, name, globals())


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "read_sam", "write_sam", "sam_from_frame",
    "parse_account", "account", "Account",
    "check_sam", "SamReport", "Problem",
    "ras", "cross_entropy", "BalanceResult",
    "EconomyShares", "sam_from_shares", "shares_from_sam",
]
