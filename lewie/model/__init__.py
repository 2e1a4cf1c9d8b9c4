"""Stages 2–3, calibrate and build: the registry of variables and parameters, the Pyomo declaration, the sets of an economy,
calibration (point and per draw), interventions, and the economics options (labour supply, liquidity).
"""
