"""Pagination for every API list: numbered pages whose count stays cheap on large tables."""

from typing import Any, cast

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from api_core.count_estimate import estimated_count

# Up to this many matching rows a list's count is exact; beyond it, the
# database's estimate (see docs/design-decisions.md, "A bounded count").
EXACT_COUNT_LIMIT = 1_000


class ReadAheadPage(Page):
    """A page read one row further, so that it knows whether another page follows."""

    def __init__(self, object_list: Any, number: int, paginator: Paginator, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more


class BoundedCountPaginator(Paginator):
    """Counts at most EXACT_COUNT_LIMIT + 1 rows, then asks the planner.

    With an estimated count, pages are cut by ``per_page`` alone and each is
    read one row further: ``next`` then says whether another page holds rows,
    whatever the estimate, and a page past the end is a 404 as with an exact
    count. The last page knows the exact count and gives it.
    """

    count_is_exact = True

    @cached_property
    def count(self) -> int:
        # The API pages querysets only.
        queryset = cast(QuerySet, self.object_list)
        capped = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
        if capped <= EXACT_COUNT_LIMIT:
            return capped
        estimate = estimated_count(queryset)
        if estimate is None:
            return queryset.count()
        self.count_is_exact = False
        return max(estimate, capped)

    def validate_number(self, number: Any) -> int:
        _ = self.count  # decides count_is_exact
        if self.count_is_exact:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from error
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        if self.count_is_exact:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        more = len(rows) > self.per_page
        del rows[self.per_page :]
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        if more:
            # The estimate can be low: never below the rows seen so far.
            self.count = max(self.count, bottom + self.per_page + 1)
        else:
            self.count = bottom + len(rows)
            self.count_is_exact = True
        self.__dict__.pop("num_pages", None)  # computed from the count
        return ReadAheadPage(rows, number, self, more)


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=2&page_size=50``: 20 items a page unless asked, from 1 to 100."""

    django_paginator_class = BoundedCountPaginator
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Any) -> int:
        """The asked page size: refused with a 400 unless a whole number from 1 to 100,
        as the schema says (DRF would silently use the default or cut it)."""
        asked = request.query_params.get(self.page_size_query_param)
        if asked is None:
            return cast(int, self.page_size)
        if not (asked.isascii() and asked.isdigit() and 1 <= int(asked) <= self.max_page_size):
            raise ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(asked)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = "A page number, from 1 (`last` for the last page)."
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters

    def get_page_number(self, request: Any, paginator: Paginator) -> Any:
        asked = request.query_params.get(self.page_query_param)
        bounded = cast(BoundedCountPaginator, paginator)
        if asked in self.last_page_strings and bounded.count and not bounded.count_is_exact:
            # With an estimated count the last page is unknown: finding it would
            # take the full count that the estimate avoids.
            raise NotFound(
                "page=last needs an exact count, and this list's count is an estimate: "
                "follow the `next` links, or ask for a page number."
            )
        return super().get_page_number(request, paginator)

    def get_paginated_response(self, data: Any) -> Response:
        if self.page is None:
            raise RuntimeError("get_paginated_response() needs paginate_queryset() first")
        paginator = cast(BoundedCountPaginator, self.page.paginator)
        return Response(
            {
                "count": paginator.count,
                "count_is_exact": paginator.count_is_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"]["count"]["description"] = (
            f"Matching items: exact up to {EXACT_COUNT_LIMIT:,}, the database's estimate "
            "beyond (then count_is_exact is false)."
        )
        paginated["properties"] = {
            "count": paginated["properties"]["count"],
            "count_is_exact": {"type": "boolean"},
            **{k: v for k, v in paginated["properties"].items() if k != "count"},
        }
        others = [name for name in paginated["required"] if name != "count"]
        paginated["required"] = ["count", "count_is_exact", *others]
        return paginated
