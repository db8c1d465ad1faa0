"""Sandboxed execution of student code."""
