"""The library's books: the model, its admin, and the website page that lists them."""
