"""runserver that stops at once, in one line, when the database cannot be reached."""

from typing import Any

from django.contrib.staticfiles.management.commands.runserver import (
    Command as StaticFilesRunserverCommand,
)
from django.core.management.base import CommandError

from api_core.health import database_problem


class Command(StaticFilesRunserverCommand):
    """Django's runserver (static files included), after a check that the database answers."""

    def handle(self, *args: Any, **options: Any) -> str | None:
        problem = database_problem()
        if problem is not None:
            raise CommandError(problem)
        return super().handle(*args, **options)
