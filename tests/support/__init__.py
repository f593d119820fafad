"""Helpers shared by the tests (not test files): fixture studies, workflow runs, PDF bytes.

Tests import them as ``from support.<module> import ...`` (pytest puts tests/ on the path, as
conftest.py's folder); ``support.paths`` holds the repository paths conftest.py also exports.
"""
