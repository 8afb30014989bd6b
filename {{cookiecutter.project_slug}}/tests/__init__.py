"""The project's tests, run with pytest and pytest-django."""
