"""mlc.Error: every failure of the package that is not a Python usage
error (a wrong argument type) is raised as this."""


class Error(Exception):
    """A failed load, bind, run or compile.

    `str(e)` is the message: the runtime's status message (naming the
    tensor and what was wrong) or the mlc command's error output.  `code`
    is the runtime's status code by name ("INVALID_ARGUMENT", "NOT_FOUND",
    "INCOMPATIBLE", "IO_ERROR", "OUT_OF_MEMORY", "FAILED_PRECONDITION",
    "INTERNAL"; the checks the package makes itself before calling the
    runtime use the same names), or "COMPILE_FAILED" for mlc.compile()."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        self.code = code
