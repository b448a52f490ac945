"""The one exception type for bad user input.

Every message is a single line that names the fix; the CLI prints it without a
traceback and exits with status 2.
"""


class TsganError(ValueError):
    """Bad input from the user (data, parameters, paths). The message names the fix."""
