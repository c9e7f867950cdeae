"""`make bench`: the function against the local emulator, beside lower bounds and a naive strategy.

Run as `python -m bench` (options: `python -m bench --help`). Derivations of the bounds: bench/README.md.
"""
