"""The version of lewie (one place; the package and the results provenance read it)."""
__version__ = "0.1.0"
