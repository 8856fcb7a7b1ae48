"""The one exception type that the CLI turns into a one-line message."""


class VeeganError(Exception):
    """A problem with the user's input (configuration, data, run directory, checkpoint)."""


class DivergedError(VeeganError):
    """Training produced a non-finite loss or non-finite parameters (exit status 3)."""

    exit_status = 3


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
