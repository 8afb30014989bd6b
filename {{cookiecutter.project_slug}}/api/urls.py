"""API URLs, mounted under /api/v1/ by config.urls."""

from rest_framework.routers import DefaultRouter

from imports.views import ImportJobViewSet

from . import auth_urls
from .views import BookViewSet

app_name = "api"

router = DefaultRouter()
router.register("books", BookViewSet, basename="book")
router.register("imports", ImportJobViewSet, basename="import")

urlpatterns = [
    *auth_urls.urlpatterns,
    *router.urls,
]
