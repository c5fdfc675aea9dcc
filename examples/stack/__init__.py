"""The production topology, started on one machine: see :mod:`examples.stack.__main__`."""
