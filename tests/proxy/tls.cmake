# Owner: tls (issue 4). Interception integration tests.
