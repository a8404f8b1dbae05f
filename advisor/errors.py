"""One exception root for the whole core.

Every error a user can cause by a foreseeable bad input is an ``AdvisorError`` whose message says
what is wrong and how to fix it; front ends print the message, never a traceback.
"""


def first_line(exc: BaseException, limit: int = 400) -> str:
    """An exception's message, cut to its first line: libraries put stack dumps below it."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:limit]


class AdvisorError(Exception):
    """Base of every error the advisor raises on purpose."""

    exit_code = 1


class UsageError(AdvisorError):
    """A bad argument or option: nothing was run."""

    exit_code = 2


class ModelLoadError(AdvisorError):
    """The model could not be found, recognised or loaded."""

    exit_code = 3


class InputSpecError(AdvisorError):
    """An input specification is malformed, or the model rejected the inputs it describes."""

    exit_code = 3


class ReportError(AdvisorError):
    """A report file is malformed, truncated, of an unknown schema version, or would overwrite one."""

    exit_code = 2


class ProfileIncomplete(AdvisorError):
    """The worker stopped before the profile finished (crash, time limit, memory limit, cancel)."""

    exit_code = 4


def is_out_of_memory(exc: BaseException) -> bool:
    """Python's MemoryError, torch's OutOfMemoryError, or an allocator's failure reported as RuntimeError."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(
        words in text for words in ("out of memory", "can't allocate memory", "cannot allocate memory"))
