pytest_plugins = ["portal_tests.fixtures", "portal_tests.platform_fixtures"]
