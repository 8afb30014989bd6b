"""Serializers: the file an import is sent as, the import as the API shows it, and a row's rules."""

from typing import Any

from django.conf import settings
from django.urls import reverse
from rest_framework import serializers
{%- if cookiecutter.app_layout == "split" %}

from api.serializers import BookSerializer, IsbnSerializerField
{%- else %}

from books.api.serializers import BookSerializer, IsbnSerializerField
{%- endif %}
from imports import files
from imports.models import ImportJob


class BookRowSerializer(BookSerializer):
    """A row of an import, checked with the BookSerializer's rules.

    All but one: whether the ISBN is already in the catalogue is asked for a
    whole batch of rows in one query (imports/tasks.py), not once per row.
    """

    isbn = IsbnSerializerField()


class ImportUploadSerializer(serializers.Serializer):
    """A file of books to import; checked whole before anything is queued."""

    file = serializers.FileField(
        help_text="A CSV file with a header row naming title, author and isbn (subtitle is "
        "optional), or a JSON Lines file of objects with those keys; UTF-8, at most "
        "DJANGO_IMPORT_MAX_BYTES (10 MB unless set)."
    )

    def validate_file(self, upload: Any) -> files.CheckedFile:
        try:
            return files.check(upload, settings.IMPORT_MAX_BYTES)
        except files.BadFile as error:
            raise serializers.ValidationError(str(error), code="invalid_file") from None


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row's line in the file (a CSV header is line 1).")
    # Named like Serializer.errors, which the metaclass leaves alone (api_core.errors).
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The messages for each field in error (or `row` for a line that is no book).",
    )


class ImportJobSerializer(serializers.ModelSerializer):
    """An import as the API shows it: its state, its progress and what it did."""

    url = serializers.SerializerMethodField(help_text="This import's own URL.")
    invalid_rows = RowErrorSerializer(
        many=True, read_only=True, help_text="The first invalid rows (at most 20), in file order."
    )

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "url",
            "status",
            "format",
            "file_name",
            "rows_total",
            "rows_done",
            "created_count",
            "present_count",
            "invalid_count",
            "invalid_rows",
            "failure",
            "created",
            "started",
            "finished",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "status": {"help_text": "queued, running, succeeded or failed."},
            "rows_done": {"help_text": "Rows handled so far, of rows_total."},
            "created_count": {"help_text": "Books created."},
            "present_count": {
                "help_text": "Rows whose ISBN was already in the catalogue (or earlier in the "
                "file): nothing is created for them."
            },
            "invalid_count": {"help_text": "Rows that break the book rules; see invalid_rows."},
            "failure": {"help_text": "Why a failed import stopped; empty otherwise."},
        }

    def get_url(self, job: ImportJob) -> str:
        return reverse("api:import-detail", kwargs={"pk": job.pk})
