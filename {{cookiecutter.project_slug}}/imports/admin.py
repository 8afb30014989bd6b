"""The admin's view of imports: read-only, as the worker writes them."""

from django.contrib import admin
from django.http import HttpRequest

from imports.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "file_name",
        "status",
        "rows_total",
        "created_count",
        "invalid_count",
        "created",
    ]
    list_filter = ["status", "format"]
    exclude = ["content"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ImportJob | None = None) -> bool:
        return False
