"""Account labels of a lewie household-group SAM.

Every account label is ``kind:name`` or, for activities, ``act:good:household``:

=========  ===========================  ==========================================================
kind       label                        meaning
=========  ===========================  ==========================================================
``act``    ``act:crops:eligible``       activity producing good ``crops`` run by household group
                                        ``eligible``
``com``    ``com:crops``                commodity (good) market of the local economy
``fac``    ``fac:labor``                factor (labour, land, capital, purchased inputs, ...)
``hh``     ``hh:eligible``              household group
``out``    ``out:world``                the outside: trade, exogenous income (transfers in,
                                        remittances)
``out``    ``out:savings``              household savings (leaves the local economy)
``out``    ``out:transfers``            transfers paid to people outside the local economy
``out``    ``out:spending``             household spending outside the local economy
=========  ===========================  ==========================================================
"""
from __future__ import annotations

from dataclasses import dataclass

from lewie.errors import SAMError, did_you_mean

KINDS = ("act", "com", "fac", "hh", "out")
OUTSIDE = ("world", "savings", "transfers", "spending")
LEAKAGES = ("savings", "transfers", "spending")
"""Outside accounts a household pays a share of its income to."""


@dataclass(frozen=True)
class Account:
    """One parsed account label."""

    kind: str
    name: str
    household: str | None = None

    @property
    def label(self) -> str:
        return ":".join(p for p in (self.kind, self.name, self.household) if p is not None)


def parse_account(label: str, *, file: object | None = None) -> Account:
    """Parse ``kind:name`` (or ``act:good:household``), raising a SAMError that names the label."""
    parts = str(label).strip().split(":")
    kind = parts[0]
    if kind not in KINDS:
        raise SAMError(f"account '{label}' has unknown kind '{kind}'{did_you_mean(kind, KINDS)}; "
                       f"labels are kind:name with kind one of {', '.join(KINDS)} "
                       "(activities: act:good:household)", file=file, label=str(label))
    want = 3 if kind == "act" else 2
    if len(parts) != want or not all(parts):
        form = "act:good:household" if kind == "act" else f"{kind}:name"
        raise SAMError(f"account '{label}' should be written {form}", file=file, label=str(label))
    if kind == "out" and parts[1] not in OUTSIDE:
        raise SAMError(f"unknown outside account '{label}'{did_you_mean(parts[1], OUTSIDE)}; "
                       f"valid: {', '.join('out:' + o for o in OUTSIDE)}", file=file, label=str(label))
    return Account(kind, parts[1], parts[2] if kind == "act" else None)


def account(kind: str, name: str, household: str | None = None) -> str:
    """The label of an account: ``account('act', 'crops', 'eligible') == 'act:crops:eligible'``."""
    return Account(kind, name, household).label
