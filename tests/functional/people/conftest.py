"""The console's fixtures (accounts, logins) for the tests of what people see (issue 24, items 1–10)."""

from tests.functional.admin.conftest import login, make_token, make_user  # noqa: F401 - fixtures
