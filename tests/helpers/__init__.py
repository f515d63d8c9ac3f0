"""Test support shared by unit and end-to-end tests (importable as `helpers`)."""
