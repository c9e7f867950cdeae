"""Project tooling that is not part of the deployed function (`python -m tools.package`)."""
