pytest_plugins = ["portal_tests.fixtures", "portal_tests.platform_fixtures"]


def pytest_collection_modifyitems(items: list) -> None:
    # The bounded fault scenarios stop the session's database and kill its platform's
    # processes (tests/faults/conftest.py): they run after everything else.
    faults = [item for item in items if item.nodeid.startswith("tests/faults/")]
    if faults and len(faults) < len(items):
        items[:] = [item for item in items if not item.nodeid.startswith("tests/faults/")] + faults
