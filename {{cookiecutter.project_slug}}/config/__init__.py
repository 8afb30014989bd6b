"""Project configuration: settings, root URLs, gunicorn and the WSGI entry point."""
