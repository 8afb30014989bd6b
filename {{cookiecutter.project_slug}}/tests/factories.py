"""factory_boy factories: test data without hard-coded keys or ISBNs."""

import factory
from django.contrib.auth.models import User

from books.models import Book

PASSWORD = "correct horse battery staple"


def isbn13(first_twelve: str) -> str:
    """Complete twelve digits with the ISBN-13 check digit."""
    total = sum(int(char) * (3 if index % 2 else 1) for index, char in enumerate(first_twelve))
    return first_twelve + str(-total % 10)


class UserFactory(factory.django.DjangoModelFactory[User]):
    """A user who can sign in with PASSWORD."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"reader{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password(PASSWORD)


class BookFactory(factory.django.DjangoModelFactory[Book]):
    """A book with a unique, valid ISBN-13."""

    class Meta:
        model = Book

    title = factory.Sequence(lambda n: f"Book {n:04d}")
    subtitle = factory.Faker("sentence", nb_words=4)
    author = factory.Faker("name")
    isbn = factory.Sequence(lambda n: isbn13(f"978{n:09d}"))
