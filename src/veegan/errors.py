"""The one exception type that the CLI turns into a one-line message."""


class VeeganError(Exception):
    """A problem with the user's input (configuration, data, run directory, checkpoint)."""
