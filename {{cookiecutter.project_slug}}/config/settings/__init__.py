"""Settings: base, local (manage.py's default), test, production (wsgi.py's), build."""
