"""Jinja filters for the template, loaded through ``_extensions`` in cookiecutter.json."""

from cookiecutter.utils import simple_filter

# Characters TOML basic strings forbid unescaped, plus the two that end or
# escape a string. Python, TOML and YAML double-quoted strings all read
# backslash-quote, backslash-backslash and backslash-uXXXX the same way.
_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"'} | {
    code: f"\\u{code:04x}" for code in (*range(0x20), 0x7F)
}


@simple_filter
def quoted(value: object) -> str:
    """Render ``value`` as a double-quoted string literal valid in Python, TOML and YAML.

    >>> quoted('Say "hi"\\n')
    '"Say \\\\"hi\\\\"\\\\u000a"'
    """
    return '"' + str(value).translate(_ESCAPES) + '"'
