"""One exception hierarchy, rooted in :class:`ValueError`.

Every error a user can cause is a :class:`SigintError`. Its message is one sentence that
names the file, the field, the offending value and the fix; the CLI prints it without a
traceback and exits with :attr:`SigintError.exit_code` (2: bad input or usage).
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "SigintError",
    "InputError",
    "TouchstoneError",
    "PortMapError",
    "SpecError",
    "BackendError",
    "input_error",
]


class SigintError(ValueError):
    """Base class of every error sigint raises on purpose.

    Attributes
    ----------
    exit_code : int
        Exit status the CLI returns for this error (2: bad input or usage).
    """

    exit_code: int = 2


class InputError(SigintError):
    """A file, option or argument the user gave cannot be used as it is."""


class TouchstoneError(InputError):
    """A Touchstone file cannot be read or fails a check that cannot be repaired."""


class PortMapError(InputError):
    """The through-path / victim / differential mapping does not fit the network."""


class SpecError(InputError):
    """No spec row applies, or a spec option is unknown."""


class BackendError(SigintError):
    """The requested compute backend cannot run on this machine."""


def input_error(
    problem: str,
    *,
    source: str | Path | None = None,
    field: str | None = None,
    value: object = None,
    fix: str | None = None,
    cls: type[SigintError] = InputError,
) -> SigintError:
    """Build an error whose message reads ``source: field = value: problem; fix``.

    Parameters
    ----------
    problem : str
        What is wrong, in plain words.
    source : str or Path, optional
        File (or option group) the value came from.
    field : str, optional
        Key, option or column that holds the value.
    value : object, optional
        The offending value, shown with ``repr`` for strings.
    fix : str, optional
        What the user should do instead.
    cls : type, optional
        Exception class to instantiate.

    Returns
    -------
    SigintError
        The exception, ready to raise.

    Examples
    --------
    >>> str(input_error("has no unit", source="bus.yaml", field="width", value="2",
    ...                 fix="write it as '2 um'"))
    "bus.yaml: width = '2': has no unit; write it as '2 um'"
    """
    head = []
    if source is not None:
        head.append(str(source))
    if field is not None:
        shown = repr(value) if isinstance(value, str) else value
        head.append(f"{field} = {shown}" if value is not None else str(field))
    msg = ": ".join([*head, problem])
    if fix:
        msg += f"; {fix}"
    return cls(msg)
