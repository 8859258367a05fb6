"""Taking the manual's pictures and videos from the real screens (the tests marked `docs`).

A screenshot is taken only after what it is meant to show is checked to be on the screen, so a
broken screen fails `make docs` instead of producing a plausible picture. Videos are Playwright's
recordings, converted by Debian's ffmpeg to WebM and MP4 with the steps as chapter titles.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess  # nosec B404 - runs ffmpeg/ffprobe with fixed arguments
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import playwright
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e.docs_media import (
    DOCS_DIR,
    SCREENSHOTS,
    VIDEOS,
    screenshot_path,
    video_path,
)

VIEWPORT = {"width": 1280, "height": 800}
VIDEO_SIZE = {"width": 1280, "height": 800}
VIDEO_LIMIT_SECONDS = 120
STEP_PAUSE_MS = 700  # long enough for a viewer to see what a step did
PLAYWRIGHT_HOME = DOCS_DIR.parent / "var" / "playwright"


def use_system_ffmpeg() -> None:
    """Playwright records video through an ffmpeg of its own, which `playwright install` would
    download; Debian's ffmpeg takes the same arguments, so it stands in at the path Playwright
    looks in. Set before the first browser starts (this module is imported at collection)."""
    system = shutil.which("ffmpeg")
    if system is None:
        return
    browsers = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    revisions = {
        item["name"]: item["revision"] for item in json.loads(browsers.read_text())["browsers"]
    }
    target = PLAYWRIGHT_HOME / f"ffmpeg-{revisions['ffmpeg']}" / "ffmpeg-linux"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.symlink_to(system)
    os.environ["PLAYWRIGHT_BROWSERS_PATH"] = str(PLAYWRIGHT_HOME)


use_system_ffmpeg()


def shoot(
    page: Page,
    name: str,
    *shows: Locator,
    of: Locator | None = None,
    full_page: bool = False,
) -> Path:
    """Screenshot `name` (of the whole page, or of `of`) once every locator in `shows` is
    visible."""
    assert name in SCREENSHOTS, f"{name} is not in docs_media.SCREENSHOTS"
    assert shows, "a screenshot must say what it shows"
    for locator in shows:
        expect(locator).to_be_visible()
    page.wait_for_load_state("networkidle")
    path = DOCS_DIR / screenshot_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if of is not None:
        of.screenshot(path=path, animations="disabled")
    else:
        page.screenshot(path=path, full_page=full_page, animations="disabled")
    assert path.stat().st_size > 1000, f"{path} is empty"
    return path


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, check=False)  # nosec B603
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stderr[-2000:]}"
    return done.stdout


def media_duration(path: Path) -> float:
    out = _run(
        "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)
    )
    return float(json.loads(out)["format"]["duration"])


def media_chapters(path: Path) -> list[str]:
    out = _run("ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path))
    return [chapter["tags"]["title"] for chapter in json.loads(out)["chapters"]]


class Recording:
    """One video tutorial: a browser context that records, and the chapters of what it shows."""

    def __init__(self, name: str, new_context: Callable[..., BrowserContext]):
        assert name in VIDEOS, f"{name} is not in docs_media.VIDEOS"
        self.name = name
        self.raw_dir = Path(tempfile.mkdtemp(prefix=f"docs-video-{name}-"))
        self.context = new_context(
            viewport=VIEWPORT, record_video_dir=str(self.raw_dir), record_video_size=VIDEO_SIZE
        )
        self.page = self.context.new_page()
        self.started = time.monotonic()
        self.chapters: list[tuple[float, str]] = []

    def chapter(self, title: str) -> None:
        """The next step starts now; its title becomes a chapter of the video."""
        self.chapters.append((time.monotonic() - self.started, title))

    def pause(self, milliseconds: int = STEP_PAUSE_MS) -> None:
        self.page.wait_for_timeout(milliseconds)

    def finish(self) -> list[Path]:
        """Stops recording and writes the WebM, the MP4 and a WebVTT chapter track."""
        assert self.chapters, "a video needs at least one chapter"
        self.pause(1200)
        video = self.page.video
        assert video is not None
        self.context.close()
        raw = Path(video.path())
        out_dir = DOCS_DIR / "media" / "videos"
        out_dir.mkdir(parents=True, exist_ok=True)
        duration = media_duration(raw) if _has_duration(raw) else time.monotonic() - self.started
        assert duration < VIDEO_LIMIT_SECONDS, f"{self.name} lasts {duration:.0f}s"
        spans = self._spans(duration)
        metadata = self.raw_dir / "chapters.txt"
        metadata.write_text(_ffmetadata(spans), encoding="utf-8")
        webm = DOCS_DIR / video_path(self.name, "webm")
        mp4 = DOCS_DIR / video_path(self.name, "mp4")
        common = ["ffmpeg", "-y", "-v", "error", "-i", str(raw), "-i", str(metadata)]
        common += ["-map", "0:v", "-map_metadata", "1", "-map_chapters", "1", "-an"]
        _run(
            *common,
            *("-c:v", "copy"),  # Playwright records VP9 already: only the chapters are added
            str(webm),
        )
        _run(
            *common,
            *("-c:v", "libx264", "-preset", "veryfast", "-crf", "26", "-pix_fmt", "yuv420p"),
            *("-movflags", "+faststart"),
            str(mp4),
        )
        vtt = DOCS_DIR / video_path(self.name, "vtt")
        vtt.write_text(_webvtt(spans), encoding="utf-8")
        titles = [title for _, _, title in spans]
        for path in (webm, mp4):
            assert media_chapters(path) == titles, f"{path} lost its chapters"
            assert media_duration(path) < VIDEO_LIMIT_SECONDS
        shutil.rmtree(self.raw_dir, ignore_errors=True)
        return [webm, mp4, vtt]

    def _spans(self, duration: float) -> list[tuple[float, float, str]]:
        spans = []
        for index, (start, title) in enumerate(self.chapters):
            end = self.chapters[index + 1][0] if index + 1 < len(self.chapters) else duration
            spans.append((min(start, duration), min(max(end, start), duration), title))
        return spans


def _has_duration(path: Path) -> bool:
    try:
        return media_duration(path) > 0
    except (AssertionError, KeyError, ValueError):
        return False


def _ffmetadata(spans: list[tuple[float, float, str]]) -> str:
    lines = [";FFMETADATA1"]
    for start, end, title in spans:
        safe = title.replace("\\", "\\\\").replace("=", "\\=").replace(";", "\\;")
        safe = safe.replace("#", "\\#")
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={int(start * 1000)}",
            f"END={int(end * 1000)}",
            f"title={safe}",
        ]
    return "\n".join(lines) + "\n"


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _webvtt(spans: list[tuple[float, float, str]]) -> str:
    cues = ["WEBVTT", ""]
    for number, (start, end, title) in enumerate(spans, start=1):
        cues += [str(number), f"{_timestamp(start)} --> {_timestamp(end)}", title, ""]
    return "\n".join(cues)
