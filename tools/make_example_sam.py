"""Build the bundled example village SAM (sam/data/example_village/sam.csv) from invented shares.

The numbers are invented but plausible (a poor rural village economy in thousands of local currency
per year); see sam/data/example_village/README.md. Run: python tools/make_example_sam.py
"""
from pathlib import Path

import pandas as pd

from lewie.sam.accounts import account
from lewie.sam.io import write_sam

HOUSEHOLDS = ["eligible", "ineligible", "traders"]
GOODS = ["crops", "livestock", "retail", "services", "outside"]
FACTORS = ["labor", "land", "capital", "inputs"]
# output by activity and household group
OUTPUT = {("crops", "eligible"): 2400, ("livestock", "eligible"): 600, ("retail", "eligible"): 200,
          ("services", "eligible"): 400, ("crops", "ineligible"): 12600,
          ("livestock", "ineligible"): 4500, ("retail", "ineligible"): 1800,
          ("services", "ineligible"): 2250, ("retail", "traders"): 9000, ("services", "traders"): 2250}
# intermediate input shares of output, by activity
INTERMEDIATE = {"crops": {"crops": 0.05, "outside": 0.10}, "livestock": {"crops": 0.15, "outside": 0.05},
                "retail": {"retail": 0.02, "outside": 0.55}, "services": {"outside": 0.15}}
# factor shares of value added, by activity
FACTOR_SHARE = {"crops": {"labor": 0.45, "land": 0.25, "capital": 0.10, "inputs": 0.20},
                "livestock": {"labor": 0.40, "capital": 0.45, "inputs": 0.15},
                "retail": {"labor": 0.45, "capital": 0.55},
                "services": {"labor": 0.60, "capital": 0.40}}
INCOME = {"eligible": 4800, "ineligible": 18000, "traders": 6750}
BUDGET = {"eligible": {"crops": 0.30, "livestock": 0.08, "retail": 0.25, "services": 0.07, "outside": 0.30},
          "ineligible": {"crops": 0.22, "livestock": 0.10, "retail": 0.25, "services": 0.10, "outside": 0.33},
          "traders": {"crops": 0.12, "livestock": 0.10, "retail": 0.22, "services": 0.14, "outside": 0.42}}
LEAK = {"eligible": {"savings": 0.02, "transfers": 0.01, "spending": 0.03},
        "ineligible": {"savings": 0.05, "transfers": 0.02, "spending": 0.05},
        "traders": {"savings": 0.10, "transfers": 0.03, "spending": 0.08}}
# labour supplied by each group (its own members), as a share of the labour its village uses
VILLAGES = {"north": ["eligible", "ineligible"], "south": ["traders"]}
LABOUR_SPLIT = {"eligible": 0.34, "ineligible": 0.70, "traders": 0.95}  # >1 in total: north works outside


def build() -> pd.DataFrame:
    labels = ([account("act", g, h) for (g, h) in OUTPUT] + [account("com", g) for g in GOODS]
              + [account("fac", f) for f in FACTORS] + [account("hh", h) for h in HOUSEHOLDS]
              + [account("out", o) for o in ("world", "savings", "transfers", "spending")])
    sam = pd.DataFrame(0.0, index=labels, columns=labels)
    labour_used = {v: 0.0 for v in VILLAGES}
    village_of = {h: v for v, hs in VILLAGES.items() for h in hs}
    for (g, h), qp in OUTPUT.items():
        a = account("act", g, h)
        sam.loc[a, account("com", g)] = qp
        for gg, s in INTERMEDIATE[g].items():
            sam.loc[account("com", gg), a] = s * qp
        va = qp * (1 - sum(INTERMEDIATE[g].values()))
        for f, s in FACTOR_SHARE[g].items():
            sam.loc[account("fac", f), a] = s * va
            if f in ("land", "capital"):  # fixed factors: the household running the activity owns them
                sam.loc[account("hh", h), account("fac", f)] += s * va
        labour_used[village_of[h]] += FACTOR_SHARE[g].get("labor", 0.0) * va
    for h in HOUSEHOLDS:
        y = INCOME[h]
        for o, s in LEAK[h].items():
            sam.loc[account("out", o), account("hh", h)] = s * y
        local = y * (1 - sum(LEAK[h].values()))
        for g, s in BUDGET[h].items():
            sam.loc[account("com", g), account("hh", h)] = s * local
        sam.loc[account("hh", h), account("fac", "labor")] = LABOUR_SPLIT[h] * labour_used[village_of[h]]
    for o in ("savings", "transfers", "spending"):
        sam.loc[account("out", "world"), account("out", o)] = sam.loc[account("out", o)].sum()
    # purchased inputs come from outside
    sam.loc[account("out", "world"), account("fac", "inputs")] = sam.loc[account("fac", "inputs")].sum()
    # net trade of goods and labour with the outside closes the commodity and factor accounts
    for acc in [account("com", g) for g in GOODS] + [account("fac", "labor")]:
        gap = sam.loc[acc].sum() - sam[acc].sum()  # receipts minus payments
        if gap > 0:
            sam.loc[account("out", "world"), acc] += gap  # imports
        else:
            sam.loc[acc, account("out", "world")] += -gap  # exports
    # exogenous income closes each household account
    for h in HOUSEHOLDS:
        hh = account("hh", h)
        sam.loc[hh, account("out", "world")] = sam[hh].sum() - sam.loc[hh].sum()
    world = account("out", "world")
    assert abs(sam.loc[world].sum() - sam[world].sum()) < 1e-6
    return sam.round(6)


if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "sam" / "data" / "example_village" / "sam.csv"
    write_sam(build(), out)
    print(f"wrote {out}")
