"""Handlers for 01_gradient_descent."""
