"""Stage 6, results: the xarray Dataset of a run, derived quantities (multipliers, bands, synergy), statistics over
draws, tables for papers, comparisons across studies, GAMS items and SAMs of stored states.
"""
