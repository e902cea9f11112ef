"""Exceptions whose message is written for the user: the CLI and the web app show them as they are."""


class QABotError(Exception):
    """A problem the user can fix; its message is one clear sentence."""


class InputError(QABotError):
    """Bad input: an empty question, a missing file, a malformed line."""


class StoreError(QABotError):
    """The vector store cannot be reached or read."""


class ServerGoneError(StoreError):
    """A Chroma server stopped answering a read (a write in progress says it in its own words)."""


class EmptyIndexError(QABotError):
    """Nothing has been indexed yet."""


def quoted(value: object, limit: int = 60) -> str:
    """A value from the user's input (an id, a name) as it may appear inside a message: on one
    line, control characters escaped ("\\n"), cut after `limit` characters."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))
    return text if len(text) <= limit else text[:limit] + "…"
