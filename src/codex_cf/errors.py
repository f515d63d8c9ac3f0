"""The errors a user can cause, each with its exit status and its fix.

Commands raise these; only `main` catches them and prints one line.
"""

from __future__ import annotations

from codex_cf.constants import ExitStatus


class CodexCfError(Exception):
    """An expected failure: printed as one sentence plus the fix, no traceback."""

    exit_status: ExitStatus = ExitStatus.FAILURE

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def render(self) -> str:
        if self.fix:
            return f"codex-cf: {self.message}\n  fix: {self.fix}"
        return f"codex-cf: {self.message}"


class UsageError(CodexCfError):
    exit_status = ExitStatus.USAGE


class ProfileNotCurrent(CodexCfError):
    exit_status = ExitStatus.PROFILE_NOT_CURRENT


class TokenMissing(CodexCfError):
    exit_status = ExitStatus.TOKEN_MISSING


class KeyringUnavailable(CodexCfError):
    exit_status = ExitStatus.KEYRING_UNAVAILABLE


class NoSecureKeyring(KeyringUnavailable):
    """No store that keeps the token encrypted: none at all, or only a refused plain-text one."""


class CodexNotFound(CodexCfError):
    exit_status = ExitStatus.CODEX_NOT_FOUND


class CodexUnusable(CodexCfError):
    """Codex is there but cannot be used: too old, broken, or loops back."""

    exit_status = ExitStatus.CODEX_UNUSABLE


class FileConflict(CodexCfError):
    """A file could not be written safely (changed under us, locked, unwritable)."""

    exit_status = ExitStatus.FILE_CONFLICT


class TokenInvalid(CodexCfError):
    exit_status = ExitStatus.TOKEN_INVALID


class TokenInactive(CodexCfError):
    exit_status = ExitStatus.TOKEN_INACTIVE


class ApiUnreachable(CodexCfError):
    exit_status = ExitStatus.API_UNREACHABLE
