"""Settings modules: base (shared), local (development), test, production, build.

Choose one with DJANGO_SETTINGS_MODULE; manage.py defaults to local, the WSGI
and ASGI entry points to production.
"""
