"""The error tree tells callers whether to retry from the class alone."""

import pytest

from kubeskippy.errors import (APIConflict, APIError, APINotFound, APIRejected, APITooManyRequests, PermanentError,
                               TemporaryError, api_error_for_status)


@pytest.mark.parametrize("status, cls, permanent", [
    pytest.param(400, APIRejected, True, id="400"), pytest.param(403, APIRejected, True, id="403"),
    pytest.param(422, APIRejected, True, id="422"), pytest.param(404, APINotFound, False, id="404"),
    pytest.param(409, APIConflict, False, id="409"), pytest.param(429, APITooManyRequests, False, id="429"),
    pytest.param(500, APIError, False, id="500"), pytest.param(503, APIError, False, id="503"),
])
def test_api_statuses_map_to_the_right_class(status, cls, permanent):
    error = api_error_for_status(status, "boom", payload={"code": status})
    assert type(error) is cls and error.status == status and error.payload == {"code": status}
    assert isinstance(error, PermanentError) is permanent
    assert isinstance(error, APIError)


def test_a_rejected_request_is_answered_400_not_retried():
    assert api_error_for_status(422, "invalid").http_status == 400


def test_transient_api_errors_are_temporary():
    assert isinstance(api_error_for_status(503, "down"), TemporaryError)
