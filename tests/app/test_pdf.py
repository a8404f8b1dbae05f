"""PDF documents, written by the desktop layer's Qt writer through the gpu-advisor command."""

from pathlib import Path

import pytest

from ui import launcher

FIXTURES = Path(__file__).parents[1] / "fixtures"
V2 = FIXTURES / "report-v2-llm-tiny.json"


@pytest.mark.parametrize("paper, size", [("a4", (595, 842)), ("letter", (612, 792))])
def test_pdf_is_paginated_with_the_verdict_on_page_one(tmp_path, paper, size):
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / f"r-{paper}.pdf"
    assert launcher.main(["report", str(V2), "--format", "pdf", "--paper", paper, "--preset", "internal-tool",
                     "--owned-card", "cpu", "--out", str(out)]) == 0
    pdf = pypdf.PdfReader(str(out))
    pages = len(pdf.pages)
    assert pages >= 3
    text = lambda page: " ".join(page.extract_text().split())  # noqa: E731 (pypdf spaces words with tabs)
    first = text(pdf.pages[0])
    assert "KEEP" in first and "gpu-advisor assessment: llm-tiny" in first and f"page 1 of {pages}" in first
    assert tuple(round(float(v)) for v in pdf.pages[0].mediabox[2:]) == size
    assert f"page {pages} of {pages}" in text(pdf.pages[-1])
    assert launcher.main(["verify", str(out), str(V2)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left behind


def test_pdf_pages_render_to_images(tmp_path):
    import shutil
    import subprocess
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    out = tmp_path / "r.pdf"
    assert launcher.main(["report", str(V2), "--format", "pdf", "--out", str(out)]) == 0
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "2", str(out), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == 2


def test_the_command_without_a_display_prints_the_help(capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert launcher.main([]) == 0
    out = capsys.readouterr().out
    assert "no display here" in out and "profile" in out


def test_a_whole_assessment_lays_out_in_about_ten_pages_with_no_word_broken(tmp_path):
    """The H100 embedding profile with its verdict: every section printed (none lost at the end), the ranked
    options as the top ten and a count, and words whole (Qt broke 'precision' into 'precisio n' in narrow cells)."""
    pypdf = pytest.importorskip("pypdf")
    reference = Path(__file__).parents[2] / "profiles" / "reference" / "embedding-default-nvidia-h100-80gb-hbm3.json"
    out = tmp_path / "h100.pdf"
    assert launcher.main(["report", str(reference), "--format", "pdf", "--preset", "realtime-vision",
                          "--owned-card", "none", "--out", str(out)]) == 0
    pdf = pypdf.PdfReader(str(out))
    assert len(pdf.pages) <= 10
    lines = [" ".join(line.split()) for page in pdf.pages for line in page.extract_text().splitlines()]
    text = "\n".join(lines)
    for heading in ("Measurements", "Alternatives: the best of each action, then by total cost", "Excluded options and why",
                    "Assumptions", "Methods", "Integrity"):
        assert heading in lines, heading
    assert "further options, and every option's notes, in the JSON recommendation" in text
    words = {w.strip(",.;:()") for line in lines for w in line.split()}
    # "breakeven": the excluded options' category column (every purchase here pays for itself only after the horizon)
    for whole in ("precision", "int8_weight_only", "int4_weight_only", "int8_dynamic", "breakeven", "inference"):
        assert whole in words, whole
    # the last column of the results table and of the options table: printed, not cut off at the page's edge
    assert "J/item" in words and "basis" in words and "best rent" in text
    short_words = {"a", "at", "of", "in", "to", "is", "on", "by", "or", "it", "be", "as", "an", "no", "if", "so", "up",
                   "ok", "ms", "s", "h", "g", "x", "go", "km", "nm", "c", "id"}  # words and units the document uses (c: light's
    # speed; id: a source cited by its code index id, "code index id 68444019294", in the catalog's assumptions)
    fragments = {w for w in words if len(w) <= 2 and w.isalpha() and w.islower()} - short_words
    assert not fragments, f"pieces of broken words: {sorted(fragments)}"


def test_a_pdf_changed_anywhere_after_writing_fails_verify(tmp_path, capsys):
    out = tmp_path / "r.pdf"
    assert launcher.main(["report", str(V2), "--format", "pdf", "--preset", "internal-tool", "--out", str(out)]) == 0
    data = out.read_bytes()
    assert data.count(b"gpu-advisor-integrity v1 content=") == 1  # the XMP metadata stayed uncompressed
    assert launcher.main(["verify", str(out), str(V2), "--preset", "internal-tool"]) == 0
    middle = len(data) // 2  # inside a page's (compressed) content or an image
    out.write_bytes(data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1:])
    capsys.readouterr()
    assert launcher.main(["verify", str(out), str(V2)]) == 1
    assert "content: CHANGED" in capsys.readouterr().err
