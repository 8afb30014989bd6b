"""Admin for the catalogue: search by title, author or ISBN."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from books.isbn import canonical_isbn, isbn13_is_valid
from books.models import Book


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    """List, search and edit books."""

    list_display = ["title", "author", "isbn", "created", "updated"]
    search_fields = ["title", "subtitle", "author", "isbn"]
    readonly_fields = ["created", "updated"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Book], search_term: str
    ) -> tuple[QuerySet[Book], bool]:
        """Also find a book by its ISBN as typed: ISBN-10 or ISBN-13, hyphens or not.

        The substring search compares the stored ISBN-13 digits, which an
        ISBN-10 or a hyphenated ISBN never contains.
        """
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        isbn = canonical_isbn(search_term)
        if isbn13_is_valid(isbn):
            results |= queryset.filter(isbn=isbn)
        return results, may_have_duplicates
