"""Tests of the template: hooks as units, bakes, and baked projects run for real."""
