"""Errors of the runtime, and the root of every error the toolkit raises on purpose.

The root lives here, not in `toolkit.errors`, so that `toolkit/runtime/` needs nothing outside
itself: an app can copy this folder alone. `toolkit.errors` re-exports these classes.
"""


class ToolkitError(Exception):
    """A problem the user can fix; the message says what was expected, found, and how to fix it."""


class BundleError(ToolkitError):
    """An export bundle that is missing files, tampered with or of an unknown format."""


class OptionError(ToolkitError, ValueError):
    """An option of the runtime (threads, stride, aggregation, ...) outside its allowed values."""
