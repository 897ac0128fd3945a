"""One error hierarchy.  Each error carries a stable code, an exit code and a
message that says what was wrong and what to do next.  The CLI and the API turn
them into exit codes and HTTP statuses in exactly one handler each.
"""

from __future__ import annotations


class IntakeError(Exception):
    """Base of every error the service reports to a user.  Never raised bare."""

    code: str = "E000_INTERNAL"
    exit_code: int = 70
    http_status: int = 500
    hint: str = "This is a bug; keep the original file and report it."

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.code}: {self.message} {self.hint}".strip()

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "hint": self.hint}


# ------------------------------------------------------------------ input problems


class InputError(IntakeError):
    """The file cannot be read as a fax.  The original is kept; nothing is lost."""

    code = "E100_INPUT"
    exit_code = 65  # EX_DATAERR
    http_status = 422
    hint = "Ask the sender to fax the document again."


class FileMissing(InputError):
    code = "E101_FILE_MISSING"
    exit_code = 66  # EX_NOINPUT
    http_status = 404
    hint = "Check the path; the file was not found or is not readable."


class EmptyFile(InputError):
    code = "E102_EMPTY_FILE"
    hint = "The file has no bytes; the transfer probably failed. Ask for it again."


class UnknownFileType(InputError):
    code = "E103_UNKNOWN_TYPE"
    http_status = 415
    hint = "Send a PDF, TIFF, PNG, JPEG or plain UTF-8 text file."


class HtmlNotDocument(UnknownFileType):
    code = "E104_HTML_PAGE"
    hint = (
        "The file is a web page (often a portal's error page saved under a document name), "
        "not a fax. Download the document again from the portal."
    )


class CorruptFile(InputError):
    code = "E105_CORRUPT"
    hint = "The file is truncated or damaged. Ask the sender to fax it again."


class EncryptedPdf(InputError):
    code = "E106_ENCRYPTED_PDF"
    hint = "The PDF is password-protected. Ask the sender for an unprotected copy."


class NoPages(InputError):
    code = "E107_NO_PAGES"
    hint = "The document holds no pages. Ask the sender to fax it again."


class DecompressionBomb(InputError):
    code = "E108_TOO_LARGE_IMAGE"
    http_status = 413
    hint = "A page is far larger than any fax page; the file may be malicious. Do not open it elsewhere."


class TooManyPages(InputError):
    code = "E109_TOO_MANY_PAGES"
    http_status = 413
    hint = "Split the document, or raise the page cap (INTAKE_MAX_PAGES) if it is genuine."


class NotUtf8Text(InputError):
    code = "E110_TEXT_ENCODING"
    http_status = 415
    hint = "Export the text as UTF-8."


# ------------------------------------------------------------------ configuration


class ConfigError(IntakeError):
    code = "E200_CONFIG"
    exit_code = 78  # EX_CONFIG
    hint = "Fix the configuration file named in the message."


class LexiconError(ConfigError):
    code = "E201_LEXICON"
    hint = "Fix the lexicon file named in the message; each row must match its schema."


class PolicyError(ConfigError):
    code = "E202_POLICY"
    hint = "Fix the policy file named in the message; see criteria/policies/README.md."


class PolicyNotFound(PolicyError):
    code = "E203_POLICY_NOT_FOUND"
    exit_code = 64  # EX_USAGE
    hint = "List the policies with `intake policies` and pick one by id."


class NoPolicyForProduct(PolicyNotFound):
    """The fax requests a product no policy file covers.  Not a failure of the run: the
    composer reports it plainly and evaluates nothing under another drug's policy."""

    code = "E204_NO_POLICY_FOR_PRODUCT"
    hint = (
        "Add the payer's policy for this product as a file (criteria/policies/README.md), "
        "or route the request to a reviewer."
    )


# ------------------------------------------------------------------ environment


class EngineError(IntakeError):
    code = "E300_OCR_ENGINE"
    exit_code = 69  # EX_UNAVAILABLE
    http_status = 503
    hint = "Install tesseract-ocr (see README) and try again; the original is kept."


class OcrTimeout(EngineError):
    code = "E301_OCR_TIMEOUT"
    hint = "A page took too long to read; it may be a damaged image. Retry, or ask for a re-send."


# ------------------------------------------------------------------ requests to the service


class RequestError(IntakeError):
    """A request the service cannot take as it is; nothing was stored."""

    code = "E400_BAD_REQUEST"
    exit_code = 64  # EX_USAGE
    http_status = 400
    hint = "Fix the request as the message says and send it again."


class NoFileInRequest(RequestError):
    code = "E401_NO_FILE"
    hint = "Send the document as the multipart field `file`, or as the raw body with its content type."


class UploadTooLarge(RequestError):
    code = "E402_UPLOAD_TOO_LARGE"
    http_status = 413
    hint = "Split the document, or raise INTAKE_MAX_UPLOAD_MB if it is genuine."


class BadParameter(RequestError):
    code = "E403_BAD_PARAMETER"
    http_status = 422
    hint = "Use one of the values the message lists."


class NotFound(RequestError):
    code = "E404_NOT_FOUND"
    http_status = 404
    hint = "Check the id; list the cases with GET /v1/documents."


class NotAuthenticated(RequestError):
    code = "E405_NOT_AUTHENTICATED"
    http_status = 401
    hint = "Send `Authorization: Bearer TOKEN`; create a token with `intake token create NAME`."


class NotReady(RequestError):
    code = "E406_NOT_READY"
    http_status = 409
    hint = "The document is not processed yet; read GET /v1/documents/{id} until its status is done."


class Forbidden(RequestError):
    code = "E407_FORBIDDEN"
    http_status = 403
    hint = "Reload the page and send the form again; it was older than your sign-in, or from another site."


class ReviewIncomplete(RequestError):
    code = "E408_REVIEW_INCOMPLETE"
    http_status = 409
    hint = "Accept or override every criterion first; approve only when every criterion is met as reviewed."


class TooManySignIns(RequestError):
    code = "E409_TOO_MANY_SIGN_INS"
    http_status = 429
    hint = (
        "Wait a quarter of an hour, or ask an administrator to set a new password (`intake user password`)."
    )


# ------------------------------------------------------------------ jobs


class JobError(IntakeError):
    """A job ended without a report for a reason outside the document's bytes."""

    code = "E500_JOB"
    http_status = 500
    hint = "The original is kept; the job is retried up to INTAKE_MAX_ATTEMPTS times."


class WorkerLost(JobError):
    code = "E501_WORKER_LOST"
    hint = (
        "The worker processing this document stopped (killed, out of memory, power loss) on every "
        "attempt; the document may be what stops it. Look at the original before sending it again."
    )


class JobTimeLimit(JobError):
    code = "E502_TIME_LIMIT"
    hint = "The document took longer than INTAKE_JOB_TIME_LIMIT_S on every attempt; it may be damaged."


class JobCrashed(JobError):
    code = "E503_JOB_CRASHED"
    hint = "This is a bug; the original is kept. Report the case id so it can be re-run."


class ServiceUnavailable(IntakeError):
    code = "E504_SERVICE_UNAVAILABLE"
    exit_code = 69  # EX_UNAVAILABLE
    http_status = 503
    hint = "The store or the queue cannot be reached; check INTAKE_DATABASE_URL and INTAKE_BROKER_URL."


def error_class(code: str) -> type[IntakeError]:
    """The error class of a stable code (an error read back from the store); the base if unknown."""
    stack: list[type[IntakeError]] = [IntakeError]
    while stack:
        cls = stack.pop()
        if cls.code == code:
            return cls
        stack.extend(cls.__subclasses__())
    return IntakeError
