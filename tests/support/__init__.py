"""Helpers shared by the test suites (demo workspace constants)."""
