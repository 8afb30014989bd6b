"""Pagination for every API list: numbered pages whose count stays cheap on large tables,
and cursor pages (``?cursor=``) that stay cheap however deep."""

from dataclasses import dataclass
from typing import Any, cast

from django.core import signing
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connections
from django.db.models import F, Field, GeneratedField, Model, OrderBy, Q, QuerySet
from django.template import loader
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

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
        if asked == "":
            # DRF reads an empty page as the first; the schema says a page is a number, so
            # it is refused (404) as a word is.
            return asked
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


# Cursors are signed with SECRET_KEY under this salt, so a client can neither
# forge nor alter one (SECRET_KEY_FALLBACKS keep them valid through a key
# rotation). They are opaque to clients: what they hold may change.
CURSOR_SALT = "api_core.pagination.cursor"
NOT_A_CURSOR = (
    "Not a cursor of this list (altered, cut short or from another list): use a `next` or "
    "`previous` link as it is given, or an empty cursor (`?cursor=`) for the first page."
)
OTHER_ORDERING = (
    "This cursor was made for another `ordering`: keep the ordering of the page whose link "
    "gave it, or start again with an empty cursor (`?cursor=`)."
)
CURSOR_AND_PAGE = (
    "Give `cursor` or `page`, not both: drop `page` to go on with cursor pages, or drop "
    "`cursor` for numbered pages."
)


def refuse_cursor(message: str) -> ValidationError:
    return ValidationError({ListPagination.cursor_query_param: [message]})


@dataclass(frozen=True)
class Term:
    """One term of a list's order: a field path, its direction and where its nulls sort."""

    path: str
    descending: bool
    nulls_first: bool
    # Whether the order names the nulls' place itself (``F(...).asc(nulls_last=True)``).
    explicit_nulls: bool
    nullable: bool
    field: Field

    @property
    def spelled(self) -> str:
        return f"-{self.path}" if self.descending else self.path

    def reversed(self) -> "Term":
        """The same term read backwards: the other direction, nulls at the other end."""
        return Term(
            self.path,
            not self.descending,
            not self.nulls_first,
            self.explicit_nulls,
            self.nullable,
            self.field,
        )

    def order(self) -> str | OrderBy:
        if not self.explicit_nulls:
            # A plain name: an explicit place for nulls would defeat the index on some databases.
            return self.spelled
        nulls = {"nulls_first": True} if self.nulls_first else {"nulls_last": True}
        return OrderBy(F(self.path), descending=self.descending, **nulls)

    def value(self, row: Model) -> Any:
        value: Any = row
        for name in self.path.split("__"):
            if value is None:
                return None
            value = getattr(value, name)
        return value

    def beyond(self, value: Any, strictly: bool) -> Q | None:
        """Rows past ``value`` in this term's order, or equal to it too unless ``strictly``;
        None for no row."""
        null = Q(**{f"{self.path}__isnull": True})
        not_null = Q(**{f"{self.path}__isnull": False})
        if value is None:
            # Past a null: every value if nulls come first, nothing if they come last.
            if self.nulls_first:
                return not_null if strictly else not_null | null
            return None if strictly else null
        lookup = ("lt" if self.descending else "gt") + ("" if strictly else "e")
        beyond = Q(**{f"{self.path}__{lookup}": value})
        if self.nullable and not self.nulls_first:
            beyond |= null
        return beyond

    def equal(self, value: Any) -> Q:
        if value is None:
            return Q(**{f"{self.path}__isnull": True})
        return Q(**{self.path: value})


def field_at(model: type[Model], path: str) -> tuple[Any, bool]:
    """The model field at the end of ``path`` (``shelf__name``), and whether it can be null."""
    nullable = False
    field: Any = None
    for name in path.split("__"):
        if field is not None:
            model = field.related_model
        field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        nullable = nullable or bool(field.null)
    if field.is_relation and path.rpartition("__")[2] != field.attname:
        # Ordering by a relation orders by the related model's own ordering.
        raise FieldDoesNotExist(f"{path} is a relation; order by {field.attname} or a field")
    return field, nullable


def ordering_terms(queryset: QuerySet) -> list[Term]:
    """The queryset's order as terms, up to the primary key, which ends every order:
    appended, in the direction of the last term, where the order lacks it."""
    model = queryset.model
    pk = model._meta.pk
    nulls_largest = connections[queryset.db].features.nulls_order_largest
    terms: list[Term] = []
    for item in queryset.query.order_by or model._meta.ordering:
        nulls_first: bool | None = None
        if isinstance(item, str) and item != "?":
            path, descending = item.removeprefix("-"), item.startswith("-")
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            named: Any = item.expression  # F's stubs lack its name
            path, descending = named.name, item.descending
            if item.nulls_first or item.nulls_last:
                nulls_first = bool(item.nulls_first)
        else:
            raise ImproperlyConfigured(
                f"Cursor pages need an order of model fields, not {item!r}: order by a "
                "stored (e.g. generated) field instead."
            )
        if pk is not None and path in {pk.name, pk.attname}:
            path = "pk"
        try:
            field, nullable = field_at(model, path)
        except FieldDoesNotExist as error:
            raise ImproperlyConfigured(f"Cursor pages cannot order by {path!r}: {error}") from error
        explicit = nulls_first is not None
        if nulls_first is None:
            # The database's own place for nulls: as the largest values or the smallest.
            nulls_first = descending if nulls_largest else not descending
        terms.append(Term(path, descending, nulls_first, explicit, nullable, field))
        if path == "pk":
            return terms
    descending = terms[-1].descending if terms else False
    return [*terms, Term("pk", descending, False, False, False, pk)]


def past(terms: list[Term], values: list[Any], strictly: bool) -> Q | None:
    """Rows past the position ``values`` in the order ``terms`` (and the row at it unless
    ``strictly``): past it in the first term, or equal there and past it in the second,
    and so on; None for no row.

    A bound on the first term (``title_lower >= 'dune'``) comes first, so that every
    database reads the rows as a range of that term's index instead of from its start.
    """
    alternatives = []
    for index, term in enumerate(terms):
        beyond = term.beyond(values[index], strictly or index < len(terms) - 1)
        if beyond is None:
            continue
        for earlier, value in zip(terms[:index], values[:index], strict=True):
            beyond = earlier.equal(value) & beyond
        alternatives.append(beyond)
    if not alternatives:
        return None
    condition = alternatives[0]
    for alternative in alternatives[1:]:
        condition |= alternative
    first = terms[0]
    if len(terms) > 1 and values[0] is not None and not first.nullable:
        condition = cast(Q, first.beyond(values[0], strictly=False)) & condition
    return condition


def json_value(value: Any) -> Any:
    """A position's value as JSON: dates and times in ISO 8601 to the microsecond."""
    if value is None or isinstance(value, str | int | float):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def python_value(field: Any, value: Any) -> Any:
    """A position's value from JSON, as the field holds it."""
    if value is None:
        return None
    if isinstance(field, GeneratedField):
        field = field.output_field
    return field.to_python(value)


def encode(
    queryset: QuerySet, terms: list[Term], values: list[Any], link: str, inclusive: bool
) -> dict[str, Any]:
    """What a cursor holds: the list, its order, a position in it and which way to read."""
    return {
        "list": queryset.model._meta.label,
        "order": [term.spelled for term in terms],
        "values": [json_value(value) for value in values],
        "backwards": link == "previous",
        "inclusive": inclusive,
    }


def signed(position: dict[str, Any]) -> str:
    return signing.dumps(position, salt=CURSOR_SALT, compress=True)


def cursor_after(queryset: QuerySet, row: Model) -> str:
    """The cursor of the page after ``row`` in ``queryset``'s order: what the ``next`` link
    of a page that ends at ``row`` holds (for tests and benchmarks that start deep)."""
    terms = ordering_terms(queryset)
    return signed(encode(queryset, terms, [term.value(row) for term in terms], "next", False))


class KeysetPagination(pagination.BasePagination):
    """Pages that start past a position in the list's order, not after an offset.

    A cursor holds the order it was made for and the position of a row in it:
    the values of the order's fields, the primary key last. The next page is
    the rows past the last row of this one, read one row further to know
    whether another follows; the previous page is the rows before the first,
    read backwards. Either is a range of the order's index however deep it
    is. See docs/design-decisions.md, "Cursor pages".
    """

    display_page_controls = True

    def __init__(self, page_size: int, cursor: str) -> None:
        self.page_size = page_size
        self.cursor = cursor
        self.next_position: dict[str, Any] | None = None
        self.previous_position: dict[str, Any] | None = None

    def decode(self, queryset: QuerySet, terms: list[Term]) -> dict[str, Any] | None:
        """The position the cursor holds, checked against this list and its order;
        None for an empty cursor (the first page)."""
        if not self.cursor:
            return None
        try:
            position = signing.loads(self.cursor, salt=CURSOR_SALT)
        except signing.BadSignature as error:
            raise refuse_cursor(NOT_A_CURSOR) from error
        if not isinstance(position, dict) or position.get("list") != queryset.model._meta.label:
            raise refuse_cursor(NOT_A_CURSOR)
        if position.get("order") != [term.spelled for term in terms]:
            raise refuse_cursor(OTHER_ORDERING)
        try:
            position["values"] = [
                python_value(term.field, value)
                for term, value in zip(terms, position["values"], strict=True)
            ]
        except (DjangoValidationError, KeyError, TypeError, ValueError) as error:
            raise refuse_cursor(NOT_A_CURSOR) from error
        return position

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        self.request = request
        terms = ordering_terms(queryset)
        backwards = [term.reversed() for term in terms]
        position = self.decode(queryset, terms)
        forwards = queryset.order_by(*(term.order() for term in terms))
        reverse = queryset.order_by(*(term.order() for term in backwards))
        if position is None:
            rows, more = self.read(forwards)
            self.next_position = self.position(queryset, terms, rows[-1:], more, "next")
            return rows
        values, inclusive = position["values"], position.get("inclusive") is True
        if position.get("backwards") is True:
            rows, more = self.read(reverse, past(backwards, values, not inclusive))
            rows.reverse()
            self.previous_position = self.position(queryset, terms, rows[:1], more, "previous")
            self.next_position = self.beyond(queryset, forwards, terms, rows[-1:], values, "next")
        else:
            rows, more = self.read(forwards, past(terms, values, not inclusive))
            self.next_position = self.position(queryset, terms, rows[-1:], more, "next")
            self.previous_position = self.beyond(
                queryset, reverse, terms, rows[:1], values, "previous"
            )
        return rows

    def read(self, queryset: QuerySet, *condition: Q | None) -> tuple[list[Any], bool]:
        """A page of rows that meet ``condition`` (none: no rows), and whether more follow:
        read one row further."""
        if condition and condition[0] is None:
            return [], False
        rows = list(queryset.filter(*condition)[: self.page_size + 1])
        return rows[: self.page_size], len(rows) > self.page_size

    def beyond(
        self,
        queryset: QuerySet,
        ordered: QuerySet,
        terms: list[Term],
        edge: list[Any],
        values: list[Any],
        link: str,
    ) -> dict[str, Any] | None:
        """The ``link`` (next or previous) past the page's ``edge`` row, if rows are there;
        past the cursor's own position, that row included, if the page is empty.

        One more query, LIMIT 1 on the order's index, so that the link is there exactly
        when rows are (rows may have come or gone since the cursor was made).
        """
        if edge:
            values = [term.value(edge[0]) for term in terms]
        order = terms if link == "next" else [term.reversed() for term in terms]
        condition = past(order, values, strictly=bool(edge))
        # In the order, not .exists(), which drops it: the planner then reads the row
        # next to the position from the order's index, never a scan that hopes to meet one.
        found = condition is not None and len(ordered.filter(condition).values_list("pk")[:1]) > 0
        if not found:
            return None
        return encode(queryset, terms, values, link, inclusive=not edge)

    def position(
        self, queryset: QuerySet, terms: list[Term], edge: list[Any], more: bool, link: str
    ) -> dict[str, Any] | None:
        """The ``link`` past the page's ``edge`` row when the read-ahead found ``more``."""
        if not (more and edge):
            return None
        values = [term.value(edge[0]) for term in terms]
        return encode(queryset, terms, values, link, inclusive=False)

    def link(self, position: dict[str, Any] | None) -> str | None:
        if position is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), "page")
        return replace_query_param(url, ListPagination.cursor_query_param, signed(position))

    def get_next_link(self) -> str | None:
        return self.link(self.next_position)

    def get_previous_link(self) -> str | None:
        return self.link(self.previous_position)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def to_html(self) -> str:
        template = loader.get_template("rest_framework/pagination/previous_and_next.html")
        context = {"previous_url": self.get_previous_link(), "next_url": self.get_next_link()}
        return template.render(context)


class ListPagination(PageNumberPagination):
    """Numbered pages (``?page=``), or cursor pages for a client that asks with ``?cursor=``.

    A cursor page has ``next``, ``previous`` and ``results`` but no count, and
    costs the same far into the list as at its start, where a numbered page
    reads every row before it.
    """

    cursor_query_param = "cursor"
    keyset: KeysetPagination | None = None

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        cursor = request.query_params.get(self.cursor_query_param)
        if cursor is None:
            self.keyset = None
            return super().paginate_queryset(queryset, request, view)
        if self.page_query_param in request.query_params:
            raise refuse_cursor(CURSOR_AND_PAGE)
        self.keyset = KeysetPagination(self.get_page_size(request), cursor)
        self.display_page_controls = True  # the browsable API's previous and next
        return self.keyset.paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        if self.keyset is not None:
            return self.keyset.get_paginated_response(data)
        return super().get_paginated_response(data)

    def to_html(self) -> str:
        if self.keyset is not None:
            return self.keyset.to_html()
        return super().to_html()

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        cursor = {
            "name": self.cursor_query_param,
            "required": False,
            "in": "query",
            "description": (
                "Cursor pages instead of numbered ones: empty for the first page, then the "
                "cursor of a page's `next` or `previous` link. As fast deep in the list as "
                "at its start; no count. Not with `page`."
            ),
            "schema": {"type": "string"},
        }
        return [*super().get_schema_operation_parameters(view), cursor]

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        numbered_only = " Numbered pages only: a cursor page (`?cursor=`) has no count."
        for name in ("count", "count_is_exact"):
            described = paginated["properties"][name].get("description", "")
            paginated["properties"][name]["description"] = (described + numbered_only).strip()
        paginated["required"] = [
            name for name in paginated["required"] if name not in {"count", "count_is_exact"}
        ]
        return paginated
