"""Every file `make docs` generates for the manual, by name: the tests marked `docs` make each of
them from the real screens, and tests/docs checks that every image, video and PDF the Markdown
references is one of them. Paths are relative to docs/."""

from __future__ import annotations

from pathlib import Path

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"
MEDIA_DIR = DOCS_DIR / "media"

VOUCHER_TYPES = ("JV", "PV", "RV", "CV", "SV", "PU", "DN", "CN")

SCREENSHOTS: tuple[str, ...] = (
    # getting started
    "login",
    "home",
    "entry-menu",
    # each voucher type, filled in and previewed, then posted
    *(f"entry-{code.lower()}" for code in VOUCHER_TYPES),
    *(f"posted-{code.lower()}" for code in VOUCHER_TYPES),
    # preview and posting
    "preview-problem",
    "post-refused",
    "preview-balanced",
    # drafts and approval
    "draft-saved",
    "submitted",
    "approve",
    "approved",
    # reversing
    "reverse-form",
    "reversed",
    # the list, reports
    "voucher-list",
    "voucher-list-filtered",
    "trial-balance",
    "period-trial-balance",
    "account-ledger",
    # the keyboard
    "key-card",
    "quick-reference",
    # configuring a voucher type
    "config-list",
    "config-edit",
    "config-versions",
    "config-preview",
    "config-in-use",
    # the rollout
    "rollout-settings",
    "rollout-review",
    "rollout-changed",
    "rollout-dashboard",
)

VIDEOS: tuple[str, ...] = (
    "payment-by-keyboard",
    "preview-and-fix",
    "reverse",
    "configure-voucher-type",
    "switch-rollout",
)
VIDEO_FORMATS = ("webm", "mp4")

QUICK_REFERENCE_PDF = "media/quick-reference.pdf"


def screenshot_path(name: str) -> str:
    return f"media/screens/{name}.png"


def video_path(name: str, extension: str) -> str:
    return f"media/videos/{name}.{extension}"


def generated_files() -> set[str]:
    """Every file under docs/ that `make docs` makes, relative to docs/."""
    files = {screenshot_path(name) for name in SCREENSHOTS}
    files |= {video_path(name, ext) for name in VIDEOS for ext in VIDEO_FORMATS}
    files |= {video_path(name, "vtt") for name in VIDEOS}
    files.add(QUICK_REFERENCE_PDF)
    return files
