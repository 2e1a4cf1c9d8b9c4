"""The ``lewie`` command line: one module per group of commands (entry point `lewie.cli.main.main.main`).
"""
