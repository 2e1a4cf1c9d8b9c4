"""lewie SAMs: reading, writing, checking and balancing household-group social accounting matrices."""
from .accounts import Account, account, parse_account
from .balance import BalanceResult, cross_entropy, ras
from .check import Problem, SamReport, check_sam
from .io import read_sam, sam_from_frame, write_sam

__all__ = [
    "read_sam", "write_sam", "sam_from_frame",
    "parse_account", "account", "Account",
    "check_sam", "SamReport", "Problem",
    "ras", "cross_entropy", "BalanceResult",
]
