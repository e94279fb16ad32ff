/**
 * Runs before every test file. CI runs with CI=true, and Ink (via is-in-ci, read when Ink loads)
 * then renders only the final frame: the TUI tests drive a live UI, as a responder's terminal is.
 * The integration tests' need for an engine does not depend on CI: they always fail without one.
 */
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
