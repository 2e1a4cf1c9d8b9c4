"""Stage 7, report: the plain-text summary and the self-contained HTML report.
"""
