"""Who may do what, beyond the default reads-open, writes-signed-in rule."""

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class IsStaffToDelete(BasePermission):
    """Only staff users may delete; other methods are left to the other permissions.

    Used with IsAuthenticatedOrReadOnly: an anonymous delete gets 401 (sign
    in first), a signed-in user who is not staff gets 403.
    """

    message = "Only staff users may delete."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method != "DELETE" or bool(request.user and request.user.is_staff)
