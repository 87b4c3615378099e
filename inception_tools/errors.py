"""The one exception type that reaches the user as a single line."""


class UserError(Exception):
    """Bad input (unknown layer, corrupt file, empty dataset, ...).

    The command line prints ``error: <message>`` and exits non-zero, with no
    traceback; library callers can catch it like any other exception.
    """
