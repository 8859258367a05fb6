"""`manage.py test [app ...]` runs the pytest suite, so both spellings run the same tests."""

import sys
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent


class PytestTestRunner:
    def __init__(self, verbosity: int = 1, failfast: bool = False, keepdb: bool = False, **_: Any):
        self.verbosity = verbosity
        self.failfast = failfast
        self.keepdb = keepdb

    @classmethod
    def add_arguments(cls, parser: Any) -> None:
        parser.add_argument("--keepdb", action="store_true", help="Reuse the test database.")

    def run_tests(self, test_labels: list[str], **_: Any) -> int:
        import pytest

        argv = [self.label_to_path(label) for label in test_labels]
        if self.verbosity == 0:
            argv.append("--quiet")
        elif self.verbosity > 1:
            argv.append("-v")
        if self.failfast:
            argv.append("--exitfirst")
        if self.keepdb:
            argv.append("--reuse-db")
        return int(pytest.main(argv))

    @staticmethod
    def label_to_path(label: str) -> str:
        """`accounting` means tests/accounting; a path or node id passes through unchanged."""
        app_tests = BASE_DIR / "tests" / label
        if app_tests.is_dir():
            return str(app_tests)
        dotted = BASE_DIR / Path(*label.split("."))
        if dotted.with_suffix(".py").exists():
            return str(dotted.with_suffix(".py"))
        return label


if __name__ == "__main__":  # pragma: no cover
    sys.exit(PytestTestRunner().run_tests(sys.argv[1:]))
