"""Errors the sandbox answers with, in Twilio's envelope.

Every failure a client can cause is an :class:`ApiError`; the HTTP layer turns it into
``{"code", "message", "more_info", "status"}`` with the matching HTTP status, which the
``twilio`` SDK raises as ``TwilioRestException`` with the same ``code``.

Tree::

    ApiError
     ├── BadRequest        400 / 20001  invalid or missing parameter
     ├── Unauthorized      401 / 20003  missing or wrong Basic auth
     ├── NotFound          404 / 20404  unknown sid or path
     ├── MethodNotAllowed  405 / 20004
     ├── Conflict          409 / 20409  a state transition that is not allowed now
     ├── Gone              410 / 20410  e.g. accepting a rescinded reservation
     ├── PreconditionFailed 412 / 20412 If-Match did not match the ETag
     └── PayloadTooLarge   413 / 20413
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    status = 500
    code = 20500

    def __init__(self, message: str, *, code: int | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def body(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


class BadRequest(ApiError):
    status = 400
    code = 20001


class Unauthorized(ApiError):
    status = 401
    code = 20003

    def __init__(self, message: str = "Authenticate") -> None:
        super().__init__(message)


class NotFound(ApiError):
    status = 404
    code = 20404

    def __init__(self, path: str) -> None:
        super().__init__(f"The requested resource {path} was not found")


class MethodNotAllowed(ApiError):
    status = 405
    code = 20004


class Conflict(ApiError):
    status = 409
    code = 20409


class Gone(ApiError):
    status = 410
    code = 20410


class PreconditionFailed(ApiError):
    status = 412
    code = 20412


class PayloadTooLarge(ApiError):
    status = 413
    code = 20413
