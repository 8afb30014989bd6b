"""Project configuration: settings, root URLs and the WSGI/ASGI entry points."""
