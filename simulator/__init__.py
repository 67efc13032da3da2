"""The SimPy what-if simulator (importable as kubeskippy.simulator)."""
