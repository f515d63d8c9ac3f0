"""`python -m codex_cf` and the `codex-cf` console script."""

from codex_cf.main import main


def run() -> None:
    raise SystemExit(main())


if __name__ == "__main__":
    run()
