"""Turning recorded exchanges into memories and triples (see types.py for the shared contract)."""
