"""What a call can end in besides success; the CLI maps each to its own exit code."""


class HotlineError(Exception):
    """Base of the client's errors."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        said: str | None = None,
    ):
        super().__init__(message)
        self.message, self.status, self.code = message, status, code
        self.said = said or message  # the service's own words, without the service's name


class BadRequest(HotlineError):
    """The service refused the input (4xx other than 409): fix the request."""

    exit_code = 3


class Refused(HotlineError):
    """A rule of the Measures forbids the action (409); ``code`` names the rule."""

    exit_code = 4


class Unavailable(HotlineError):
    """The service could not be reached or failed (5xx) after retries."""

    exit_code = 5
