"""Errors the user can act on: one clear line, no traceback (CLI exit code 2)."""


class BadInput(ValueError):
    """Something the user gave (a spec, a file, a layer name, a setting) is unusable.

    The message is the whole story in one line: what is wrong and what would be valid.
    """


def choices(names, limit: int = 12) -> str:
    """'a, b, c' (or the first `limit` names and how many more) for error messages."""
    names = list(names)
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "")
