"""Root URLs: the website at /, the API under /api/v1/, the admin at /admin/.

https://docs.djangoproject.com/en/6.1/topics/http/urls/
"""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("books.urls")),
{%- if cookiecutter.app_layout == "split" %}
    path("api/v1/", include("api.urls")),
{%- else %}
    path("api/v1/", include("books.api.urls")),
{%- endif %}
    path("api-auth/", include("rest_framework.urls")),
    path("admin/", admin.site.urls),
]
