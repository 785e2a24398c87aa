"""The one error type iamreach raises for bad input, and its subclasses.

Every user-facing failure is an :class:`IamreachError` whose ``str()`` is one line naming
the file, the field and what was expected. The CLI prints it and exits 2.

Examples
--------
>>> str(InputError("expected a JSON object", file="req.json", field="Statement[0].Effect"))
'req.json: Statement[0].Effect: expected a JSON object'
"""

from __future__ import annotations

__all__ = [
    "IamreachError",
    "InputError",
    "PolicyError",
    "SnapshotError",
    "ConfigError",
    "PlanError",
    "SelectorError",
]


class IamreachError(Exception):
    """Base class: a clear, one-line error about bad input or an impossible request.

    Parameters
    ----------
    message : str
        What was expected (or what went wrong).
    file : str, optional
        The file (or ``-`` for stdin) the bad input came from.
    field : str, optional
        The path of the offending field inside it, e.g. ``Statement[1].Condition``.
    """

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None):
        self.message = " ".join(str(message).split())  # one line, always
        self.file = file
        self.field = field
        super().__init__(str(self))

    def with_file(self, file: str) -> IamreachError:
        """Return the same error, naming ``file`` when it did not already."""
        if self.file is None:
            self.file = file
            self.args = (str(self),)
        return self

    def __str__(self) -> str:
        # file and field can come from the input itself (a JSON key, a path): keep them on one line
        parts = [" ".join(str(p).splitlines()) for p in (self.file, self.field) if p]
        return ": ".join([*parts, self.message])


class InputError(IamreachError):
    """Generic bad input (CLI arguments, request files)."""


class PolicyError(IamreachError):
    """A policy document that is not valid IAM policy grammar."""


class SnapshotError(IamreachError):
    """A snapshot that is corrupt, truncated, tampered with or of another schema version."""


class ConfigError(IamreachError):
    """A bad ``iamreach.toml`` / ``[tool.iamreach]`` configuration."""


class PlanError(IamreachError):
    """A Terraform plan JSON that cannot be read."""


class SelectorError(IamreachError):
    """A node selector (``tag:K=V``, ``account:ID``, ...) that cannot be parsed."""
