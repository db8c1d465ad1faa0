"""Tests of the nbgrader notebooks: source in solutions/, release in assignments/."""
