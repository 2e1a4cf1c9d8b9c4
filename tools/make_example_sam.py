"""Build the bundled example village SAM (sam/data/example_village/sam.csv) from invented shares.

The numbers are invented but plausible (a poor rural village economy in thousands of local currency
per year); see sam/data/example_village/README.md. The SAM is built by `lewie.sam.shares.sam_from_shares`:
fixed factors (land, capital) pay their rent to the group running the activity, purchased inputs come from
outside, net trade closes goods and labour, exogenous income closes each household.
Run: python tools/make_example_sam.py
"""
from pathlib import Path

import pandas as pd

from lewie.sam.io import write_sam
from lewie.sam.shares import EconomyShares, sam_from_shares

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


def economy() -> EconomyShares:
    """The constants as shares: each village supplies the sum of its groups' LABOUR_SPLIT times the labour
    its activities use, split across its groups in proportion to LABOUR_SPLIT."""
    village_of = {h: v for v, hs in VILLAGES.items() for h in hs}
    return EconomyShares(
        output={a: float(q) for a, q in OUTPUT.items()},
        input_shares={(g, h): INTERMEDIATE[g] for g, h in OUTPUT},
        factor_shares={(g, h): FACTOR_SHARE[g] for g, h in OUTPUT},
        income={h: float(INCOME[h]) for h in HOUSEHOLDS}, budget_shares=BUDGET, leakage_rates=LEAK,
        factor_kinds={"labor": "labour", "land": "fixed", "capital": "fixed", "inputs": "input"},
        village_of=village_of, labour_weights=LABOUR_SPLIT,
        labour_total={v: sum(LABOUR_SPLIT[h] for h in hs) for v, hs in VILLAGES.items()})


def build() -> pd.DataFrame:
    """The example SAM (`lewie.sam.shares.sam_from_shares`), rounded to 6 decimals."""
    sam = sam_from_shares(economy(), goods=GOODS, factors=FACTORS, households=HOUSEHOLDS)
    return sam.rename_axis(index=None, columns=None).round(6)


if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "sam" / "data" / "example_village" / "sam.csv"
    write_sam(build(), out)
    print(f"wrote {out}")
