from tests.support.fixtures import _smtp_server, smtp_server  # noqa: F401 - fixtures are found by name
