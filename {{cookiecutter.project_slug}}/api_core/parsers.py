"""JSON request bodies, refused with a 400 when nested deeper than any API input needs.

Python's JSON decoder recurses once per level of nesting and fails with a
RecursionError past about a thousand levels, a body of a few kilobytes that
anyone may send (the token endpoint parses bodies before authentication),
which Django would answer with a 500. No input of this API is more than two
levels deep, so a body nested deeper than MAX_DEPTH is a parse error before
it is decoded.
"""

import io
from collections.abc import Mapping
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32
QUOTE, BACKSLASH = ord('"'), ord("\\")
OPENERS, CLOSERS = frozenset(b"[{"), frozenset(b"]}")


def nesting_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON text (brackets in strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == BACKSLASH:
                escaped = True
            elif byte == QUOTE:
                in_string = False
        elif byte == QUOTE:
            in_string = True
        elif byte in OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif byte in CLOSERS:
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies nested more than MAX_DEPTH levels deep."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        body = stream.read()
        # Counting brackets runs at C speed; only a body with many of them is scanned.
        brackets = body.count(b"[") + body.count(b"{")
        if brackets > MAX_DEPTH and nesting_depth(body) > MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep.")
        return super().parse(io.BytesIO(body), media_type, parser_context)
