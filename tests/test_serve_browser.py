"""The web page in headless Chromium (Debian's /usr/bin/chromium driven by playwright; no browser download).

Upload a WFDB record (MIT-BIH 100 when ../shared/data has it, else a generated one), ask to locate the
abnormal beats, wait for the answer, and check that intervals are highlighted on the tracing and listed.
The tiny random model rarely answers in the `Duration:` format, so when its answer carries no interval the
test pastes a known answer into the page's "Mark intervals from an answer text" box: a real UI path whose
text the server reads with the same code as the model's answers and which the page draws with the same
function (`showLocalization` → `addHighlights` → `draw`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from anyecg.testing.server import ServerProcess, tiny_checkpoint, write_wfdb

sync_api = pytest.importorskip("playwright.sync_api", reason="needs `pip install playwright`")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).is_file():
    pytest.skip("needs Debian's chromium (apt-get install -y chromium)", allow_module_level=True)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
MITDB = Path(__file__).resolve().parents[2] / "shared" / "data" / "mitdb" / "100"


def _record(folder: Path) -> list[Path]:
    if MITDB.with_suffix(".hea").is_file() and MITDB.with_suffix(".dat").is_file():
        return [MITDB.with_suffix(s) for s in (".hea", ".dat", ".atr") if MITDB.with_suffix(s).is_file()]
    rec = write_wfdb(folder, "generated", 30)
    return [rec.with_suffix(".hea"), rec.with_suffix(".dat")]


def _yellow_fraction(page, seconds: float) -> float:
    """Share of the canvas column at `seconds` (view time) that is painted in the highlight colour."""
    return page.evaluate("""(t) => {
        const c = document.getElementById('ecg-canvas'), ctx = c.getContext('2d');
        const x = Math.round(t / 10 * c.width), h = c.height - 18;
        const px = ctx.getImageData(x, 0, 1, h).data;
        let yellow = 0;
        for (let i = 0; i < px.length; i += 4) if (px[i] > 200 && px[i + 1] > 170 && px[i + 2] < 200) yellow++;
        return yellow / h;
    }""", seconds)


def test_page_uploads_asks_and_highlights(tmp_path: Path) -> None:
    model = tiny_checkpoint(tmp_path / "ckpt")
    files = _record(tmp_path)
    with ServerProcess(model, "--max-tokens", "24") as server, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(server.url + "/")
            page.set_input_files("#file-input", [str(f) for f in files])
            page.wait_for_selector("#ecg-list li", timeout=60_000)
            page.wait_for_function("document.getElementById('ecg-canvas').dataset.highlights === '0'",
                                   timeout=60_000)
            assert _yellow_fraction(page, 2.5) < 0.05

            page.fill("#question", "Locate the abnormal beats.")
            page.click("#send")
            page.wait_for_function("!document.getElementById('send').disabled && "
                                   "document.querySelector('.msg.assistant').textContent !== '…'", timeout=120_000)
            answer = page.inner_text(".msg.assistant")
            assert not answer.startswith("error"), answer
            pasted = page.eval_on_selector("#ecg-canvas", "c => c.dataset.highlights") == "0"
            if pasted:  # the model's answer held no interval: show a known one through the page's own path
                page.fill("#mark-text", "Duration: 1.9s-3.1s, 6.8s-8.1s")
                page.click("#mark-btn")
            page.wait_for_function("+document.getElementById('ecg-canvas').dataset.highlights > 0", timeout=60_000)
            rows = page.locator("#intervals tbody tr")
            assert rows.count() >= 1
            if pasted:
                first = rows.first.inner_text().split("\t")
                assert first[0] == "pasted" and first[2].endswith(":01.9") and first[3].endswith(":03.1")
                assert _yellow_fraction(page, 2.5) > 0.5 and _yellow_fraction(page, 5.0) < 0.05
            page.screenshot(path=str(tmp_path / "serve_page.png"), full_page=True)
            print(f"screenshot: {tmp_path / 'serve_page.png'}")
        finally:
            browser.close()
