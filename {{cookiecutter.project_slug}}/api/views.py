"""API views: the book collection and its items."""

from django.db import IntegrityError, transaction
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.serializers import BaseSerializer

from api_core.viewsets import ListFiltersOnlyMixin
from books.models import Book

from .filters import BookFilter, CaseInsensitiveOrderingFilter, FoldedSearchFilter
from .permissions import IsStaffToDelete
from .serializers import DUPLICATE_ISBN, BookSerializer


def save_unique(serializer: BaseSerializer) -> None:
    """Save, turning a lost race on the unique ISBN into a 400 instead of a 500.

    The serializer's uniqueness check cannot see a row another request is
    inserting at the same moment; the database's unique constraint can. The
    savepoint keeps the surrounding transaction usable after the failure.
    """
    try:
        with transaction.atomic():
            serializer.save()
    except IntegrityError as error:
        isbn = serializer.validated_data.get("isbn")
        if isbn is None or not Book.objects.filter(isbn=isbn).exists():
            raise
        raise ValidationError({"isbn": [DUPLICATE_ISBN]}) from error


@extend_schema_view(
    list=extend_schema(summary="List books"),
    create=extend_schema(summary="Add a book"),
    retrieve=extend_schema(summary="Get a book"),
    update=extend_schema(summary="Replace a book"),
    partial_update=extend_schema(summary="Change some fields of a book"),
    destroy=extend_schema(summary="Delete a book"),
)
class BookViewSet(ListFiltersOnlyMixin, viewsets.ModelViewSet):
    """List and create books; retrieve, update and delete one.

    Reads are open to everyone, writes need a signed-in user, deletes a staff
    user. The list takes filters (``author``, ``isbn``, ``created_after``,
    ``created_before``), ``search`` (title, subtitle, author; any case and accents, folded) and
    ``ordering`` (title, author, created; ``-`` reverses), in title order by
    default.
    """

    queryset = Book.objects.all()
    serializer_class = BookSerializer
    permission_classes = [IsAuthenticatedOrReadOnly, IsStaffToDelete]
    filter_backends = [DjangoFilterBackend, FoldedSearchFilter, CaseInsensitiveOrderingFilter]
    filterset_class = BookFilter
    # The folded copies of title, subtitle and author (books/folding.py).
    search_fields = ["title_fold", "subtitle_fold", "author_fold"]
    ordering_fields = ["title", "author", "created"]

    def perform_create(self, serializer: BaseSerializer) -> None:
        save_unique(serializer)

    def perform_update(self, serializer: BaseSerializer) -> None:
        save_unique(serializer)
