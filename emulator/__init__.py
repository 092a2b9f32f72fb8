"""Local AWS emulator for the project's tests: moto's server, pinned compatibility fixes
(:mod:`emulator.patches`) and a small simulation of what moto does not run
(:mod:`emulator.sim`: ECS agent, service scheduler, one-off tasks).

Usage: ``python -m emulator {start,stop,restart,reset,status,url} [--port P]``.
See emulator/README.md.
"""
