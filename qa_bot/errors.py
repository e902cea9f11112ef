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
