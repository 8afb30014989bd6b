"""Pagination for every API list: numbered pages, a page size the client may choose."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=2&page_size=50``: 20 items a page unless asked, never more than 100."""

    page_size_query_param = "page_size"
    max_page_size = 100
