"""The one exception type for bad user input.

Every message is a single line that names the fix; the CLI prints it without a
traceback and exits with status 2.
"""


class TsganError(ValueError):
    """Bad input from the user (data, parameters, paths). The message names the fix."""


class TsganWarning(UserWarning):
    """Something tsgan assumed or changed about the user's input (a detected separator,
    a column left out, rows dropped): said once, as a warning; the CLI prints it as a
    ``note:`` line, and the fit records it in ``spec_.notes``."""


def note(message: str, notes: list[str] | None = None) -> None:
    """Say ``message`` as a :class:`TsganWarning` (and append it to ``notes``)."""
    import warnings

    if notes is not None:
        notes.append(message)
    warnings.warn(message, TsganWarning, stacklevel=3)
