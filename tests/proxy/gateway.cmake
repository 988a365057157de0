# Owner: gateway (issue 6). Gateway integration tests.
