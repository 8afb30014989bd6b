"""One meaning of "any case": text folded the same way on every database.

Databases compare text by their collations, and these differ: SQLite lowers
ASCII letters only, others follow a locale, or ignore accents but not ``ß``
against ``ss``. Folding in Python, before the text is
stored and before a query is compared with it, gives every database the same
folded strings to compare byte by byte.
"""

import unicodedata
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.lookups import Contains

# This database's binary collation, and whether contains must write plain LIKE.
from books.collation import PLAIN_LIKE, binary_collation

# How long a folded copy may be: folding can lengthen text ("ß" becomes
# "ss", "ﬃ" becomes "ffi"), so the copy has room for more than its source's
# 250 characters. 600 characters of utf8mb4 (2,400 bytes), plus the primary
# key, fit the 3,072 bytes of an InnoDB index key.
FOLDED_LENGTH = 600


def fold(text: str) -> str:
    """``text`` without case or accents, for comparing and sorting.

    Decomposes (NFKD: "Ä" becomes "A" and a combining diaeresis, "ﬁ" becomes
    "fi"), folds case the Unicode way (``casefold``: "ß" becomes "ss", a
    final "ς" becomes "σ"), decomposes again (case folding can produce
    composed letters), drops the combining marks (the accents, and the dot
    of Turkish "İ") and composes what is left (NFC). So "Émile" is "emile",
    "Straße" is "strasse", "İstanbul" is "istanbul" and "ΟΔΥΣΣΕΑΣ" is
    "οδυσσεασ". Turkish dotless "ı" stays "ı": it is a letter of its own,
    not an "i" with a mark removed.
    """
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    unmarked = "".join(char for char in decomposed if unicodedata.category(char) != "Mn")
    return unicodedata.normalize("NFC", unmarked)


class Folded(models.Field):
    """A folded copy of another field of the model, kept in step on every save.

    The model's ``save()`` (and ``bulk_create``) fill it from ``source``
    through :func:`fold` (cut to ``max_length``, if any); it is not edited by
    hand. ``QuerySet.update()`` and ``bulk_update()`` skip ``pre_save``: one
    that changes the source must set the copy too (``fold()`` of the new
    value), or save the rows one by one. Its column has a binary collation,
    so equality, order and ``contains`` compare the folded text exactly, the
    same way on every database.
    """

    defaults: dict[str, Any] = {"editable": False, "blank": True, "default": ""}

    def __init__(self, *args: Any, source: str, **kwargs: Any) -> None:
        self.source = source
        super().__init__(*args, **{**self.defaults, **kwargs})

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, value in self.defaults.items():
            if key in kwargs and kwargs[key] == value:
                del kwargs[key]
        return name, path, args, kwargs

    def db_parameters(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        parameters = super().db_parameters(connection)
        parameters["collation"] = getattr(self, "db_collation", None) or binary_collation(
            connection
        )
        return parameters

    def folded(self, model_instance: models.Model) -> str:
        """The folded value of the instance's source field, cut to fit the column."""
        value = fold(str(getattr(model_instance, self.source) or ""))
        return value[: self.max_length] if self.max_length else value

    def pre_save(self, model_instance: models.Model, add: bool) -> str:
        value = self.folded(model_instance)
        setattr(model_instance, self.attname, value)
        return value


class FoldedCharField(Folded, models.CharField):
    """A folded copy in a ``varchar`` of FOLDED_LENGTH characters (indexable everywhere)."""

    description = "A case- and accent-folded copy of another field"
    defaults = {**Folded.defaults, "max_length": FOLDED_LENGTH}


class FoldedTextField(Folded, models.TextField):
    """A folded copy of any length, for long text that is searched but not sorted."""

    description = "A case- and accent-folded copy of another text field"


@Folded.register_lookup
class FoldedContains(Contains):
    """``contains`` on a folded column: the column's binary collation makes it exact, so
    where Django would write a binary ``LIKE`` (books/collation.py), plain ``LIKE``."""

    def get_rhs_op(self, connection: BaseDatabaseWrapper, rhs: str) -> str:
        if PLAIN_LIKE and not hasattr(self.rhs, "as_sql"):
            return f"LIKE {rhs}"
        return super().get_rhs_op(connection, rhs)
