"""Admin for the catalogue: search by title, author or ISBN."""

from django.contrib import admin

from books.models import Book


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    """List, search and edit books."""

    list_display = ["title", "author", "isbn", "created", "updated"]
    search_fields = ["title", "subtitle", "author", "isbn"]
    readonly_fields = ["created", "updated"]
