"""codex-cf's own commands: logic only, no click; cli.py imports each on use."""
