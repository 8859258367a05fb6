"""The entry-screen and form tests exercise the configuration UI, so the rollout flag is on for
them; the rollout tests set the flag themselves."""

import pytest
from waffle.testutils import override_flag

from rollout.routing import FLAG_NAME


@pytest.fixture(autouse=True)
def config_ui_for_entry_tests(request):
    module = request.module.__name__.rsplit(".", 1)[-1]
    if not module.startswith(("test_entry", "test_form_factory")):
        yield
        return
    if "transactional_db" not in request.fixturenames:
        request.getfixturevalue("db")
    with override_flag(FLAG_NAME, active=True):
        yield
