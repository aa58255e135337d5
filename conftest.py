pytest_plugins = ["portal_tests.fixtures"]
