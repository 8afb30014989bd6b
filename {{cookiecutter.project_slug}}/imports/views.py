"""API views: send a file of books to import, and follow the import."""

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from imports.models import ImportJob
from imports.serializers import ImportJobSerializer, ImportUploadSerializer
from imports.tasks import import_books


@extend_schema_view(
    list=extend_schema(summary="List imports"),
    retrieve=extend_schema(summary="Get an import and its progress"),
)
class ImportJobViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Import books from a CSV or JSON Lines file, in the background; staff only.

    A POST checks the file and queues it (202, with the import's URL in
    Location); a worker imports it with the book rules. GET the import to see
    its state (queued, running, succeeded or failed), its counts and the first
    invalid rows. Books whose ISBN is already in the catalogue are counted,
    not changed, so sending a file again creates nothing new.
    """

    queryset = ImportJob.objects.all()
    serializer_class = ImportJobSerializer
    permission_classes = [IsAdminUser]
    # The whole-file body of a POST; the other methods take none.
    parser_classes = [MultiPartParser]

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        # A POST takes a file, not an import: so does the browsable API's form for it.
        if self.action == "create":
            return ImportUploadSerializer
        return ImportJobSerializer

    @extend_schema(
        summary="Import books from a CSV or JSON Lines file",
        request=ImportUploadSerializer,
        responses={status.HTTP_202_ACCEPTED: ImportJobSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        upload = self.get_serializer(data=request.data)
        upload.is_valid(raise_exception=True)
        checked = upload.validated_data["file"]
        # The job and its task row commit together: no job is left without a task.
        with transaction.atomic():
            job = ImportJob.objects.create(
                format=checked.format,
                file_name=checked.name[:255],
                content=checked.text,
                rows_total=checked.rows,
                created_by_id=request.user.pk,
            )
            result = import_books.enqueue(job.pk)
            ImportJob.objects.filter(pk=job.pk).update(task_id=str(result.id))
        # A backend that runs the task at once (DJANGO_TASKS_BACKEND) has changed it.
        job.refresh_from_db()
        body = ImportJobSerializer(job).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})
