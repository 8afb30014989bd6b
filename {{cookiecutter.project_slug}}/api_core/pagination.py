"""Pagination for every API list: numbered pages whose count stays cheap on large tables."""

from typing import Any, cast

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.response import Response

from api_core.count_estimate import estimated_count

# Up to this many matching rows a list's count is exact; beyond it, the
# database's estimate (see docs/design-decisions.md, "A bounded count").
EXACT_COUNT_LIMIT = 1_000


class BoundedCountPaginator(Paginator):
    """Counts at most EXACT_COUNT_LIMIT + 1 rows, then asks the planner.

    With an estimated count every page number is accepted (an empty page ends
    the list) and pages are cut by ``per_page`` alone, so no row becomes
    unreachable when the estimate is low.
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
        return Page(self.object_list[bottom : bottom + self.per_page], number, self)


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=2&page_size=50``: 20 items a page unless asked, never more than 100."""

    django_paginator_class = BoundedCountPaginator
    page_size_query_param = "page_size"
    max_page_size = 100

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
