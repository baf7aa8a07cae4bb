"""Domain errors and the one place that turns every error into the uniform JSON body.

Body: {"error": {"code": str, "message": str, "fields": [{"field": str, "message": str}]}}
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)


class FieldError(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[FieldError] = []


class ErrorBody(BaseModel):
    error: ErrorDetail


class DomainError(Exception):
    """An error a user can act on; carries its HTTP status and, when it is about one field, that field."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
        *,
        status_code: int | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}
        self.status_code = status_code or self.status_code
        self.code = code or self.code
        self.headers = headers


class Invalid(DomainError):
    def __init__(self, field: str | None, message: str, **extra: Any) -> None:
        super().__init__(message=message, field=field, extra=extra, status_code=422, code="validation_error")


class InvalidFields(DomainError):
    """Several fields wrong at once (cross-field rules checked by a service)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        summary = "; ".join(f"{field}: {message}" for field, message in problems[:3])
        super().__init__(message=f"Invalid input — {summary}", status_code=422, code="validation_error")
        self.problems = problems


class NotFound(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__(message=f"{what} not found.", status_code=404, code="not_found")


class UnknownReference(NotFound):
    """A referenced record that is not in the caller's company: 404, naming the field that referenced it."""

    def __init__(self, field: str, what: str) -> None:
        super().__init__(what)
        self.field = field


class Conflict(DomainError):
    def __init__(self, field: str | None, message: str, **extra: Any) -> None:
        super().__init__(message=message, field=field, extra=extra, status_code=409, code="conflict")


class PayloadTooLarge(DomainError):
    def __init__(self, field: str | None, message: str, **extra: Any) -> None:
        super().__init__(message=message, field=field, extra=extra, status_code=413, code="payload_too_large")


class Unauthorized(DomainError):
    def __init__(self, message: str = "Not authenticated.") -> None:
        super().__init__(message=message, status_code=401, code="unauthorized", headers={"WWW-Authenticate": "Bearer"})


class Forbidden(DomainError):
    def __init__(self, message: str = "You are not allowed to do this.") -> None:
        super().__init__(message=message, status_code=403, code="forbidden")


class TooManyRequests(DomainError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(
            message=message,
            status_code=429,
            code="too_many_requests",
            extra={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w., ]+)")
_PG_CONSTRAINT = re.compile(r'unique constraint "(?P<name>[^"]+)"')


def _unique_columns(exc: IntegrityError) -> list[str] | None:
    """The columns of the unique constraint `exc` violated, or None when it is not a unique violation."""
    orig = exc.orig
    text = str(orig)
    sqlite = _SQLITE_UNIQUE.search(text)
    if sqlite:
        return [column.strip().rpartition(".")[2] for column in sqlite["columns"].split(",")]
    if getattr(orig, "sqlstate", None) != "23505":  # PostgreSQL unique_violation
        return None
    name = getattr(orig.__cause__, "constraint_name", None)
    if name is None:
        match = _PG_CONSTRAINT.search(text)
        name = match["name"] if match else None
    from postdesk.db import Base  # late: db imports settings, errors is imported everywhere

    for table in Base.metadata.tables.values():
        for constraint in table.constraints:
            if constraint.name == name:
                return [column.name for column in constraint.columns]
    return []


def conflict_from_integrity_error(exc: IntegrityError) -> DomainError | None:
    """A race the services' own checks could not see (two requests saving the same unique name at once,
    a row deleted while another request pointed at it) as a 409 instead of a 500; None if it is a bug."""
    columns = _unique_columns(exc)
    if columns is not None:
        # (company_id, title) → title: the field a user can change is the last one that is not a reference.
        plain = [c for c in columns if not c.endswith("_id") and c != "id"]
        field = (plain or columns or [None])[-1]
        what = f"this {field.replace('_', ' ')}" if field else "these values"
        return Conflict(field, f"Something with {what} already exists (it was saved at the same moment).")
    text = str(exc.orig)
    if getattr(exc.orig, "sqlstate", None) == "23503" or "FOREIGN KEY constraint failed" in text:
        return Conflict(None, "A record this refers to was changed or deleted at the same moment; try again.")
    return None


def error_response(
    status_code: int,
    code: str,
    message: str,
    fields: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, fields=fields or [])).model_dump()
    if extra:
        body["error"].update(extra)
    return JSONResponse(body, status_code=status_code, headers=headers)


_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 429: "too_many_requests"}


def _field_path(loc: tuple[Any, ...]) -> str:
    # ("body", "email") → "email"; ("query", "page") → "page"; nested → "contacts.0.email"
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        if isinstance(exc, InvalidFields):
            fields = [FieldError(field=f, message=m) for f, m in exc.problems]
        else:
            fields = [FieldError(field=exc.field, message=exc.message)] if exc.field else []
        return error_response(exc.status_code, exc.code, exc.message, fields, exc.headers, exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [FieldError(field=_field_path(tuple(e.get("loc", ()))), message=e.get("msg", "invalid"))
                  for e in exc.errors()]
        summary = "; ".join(f"{f.field}: {f.message}" for f in fields[:3])
        return error_response(422, "validation_error", f"Invalid input — {summary}", fields)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        return error_response(exc.status_code, _STATUS_CODES.get(exc.status_code, "error"), message,
                              headers=getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        conflict = conflict_from_integrity_error(exc)
        if conflict is None:
            return await _unexpected(request, exc)
        log.info("integrity_conflict", path=request.url.path, field=conflict.field)
        return await _domain(request, conflict)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        return error_response(500, "internal_error", "Something went wrong on our side; it has been logged.")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody} for status in (400, 401, 403, 404, 409, 413, 422, 429)
}
