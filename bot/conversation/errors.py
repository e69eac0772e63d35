"""Domain errors; the views turn them into HTTP or WebSocket errors."""

from __future__ import annotations

from bot import texts


class DomainError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code = "not_found"
    status = 404

    def __init__(self, message: str = texts.NOT_FOUND) -> None:
        super().__init__(message)


class NotOwner(DomainError):
    code = "not_owner"
    status = 403

    def __init__(self) -> None:
        super().__init__(texts.NOT_OWNER)


class AlreadyClaimed(DomainError):
    code = "already_claimed"
    status = 409

    def __init__(self, advisor_name: str | None) -> None:
        super().__init__(texts.already_claimed(advisor_name))


class NotClaimable(DomainError):
    code = "not_claimable"
    status = 409

    def __init__(self) -> None:
        super().__init__(texts.NOT_CLAIMABLE)


class InvalidOutcome(DomainError):
    code = "invalid_outcome"
    status = 400

    def __init__(self) -> None:
        super().__init__(texts.INVALID_OUTCOME)


class AtCapacity(DomainError):
    code = "too_many_chats"
    status = 409

    def __init__(self, limit: int) -> None:
        super().__init__(texts.at_capacity(limit))
