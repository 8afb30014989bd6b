"""The library website: one page listing the catalogue."""

from typing import Any

from django.conf import settings
from django.views.generic import ListView

from books.models import Book


class BookListView(ListView):
    """Every book, in catalogue order, a page at a time."""

    model = Book
    paginate_by = 50
    template_name = "books/book_list.html"
    context_object_name = "books"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["project_name"] = settings.PROJECT_NAME
        return context
