"""Handlers for 03_regularization."""
