"""Development tooling: `make app name=...` adds an API resource in this project's layout."""
