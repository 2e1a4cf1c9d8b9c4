"""Stage 1, load and validate: scenario files (typed, strict), their generated reference and the parameter table to fill in.
"""
