//! Helpers for the end-to-end tests: locate the binaries, start instances, run commands.
