"""API URLs, mounted under /api/v1/ by config.urls."""

from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.routers import DefaultRouter

from .views import BookViewSet

app_name = "api"

router = DefaultRouter()
router.register("books", BookViewSet, basename="book")

urlpatterns = [
    path("auth/token/", obtain_auth_token, name="token"),
    *router.urls,
]
