"""The main window's file actions: a report opened or saved as JSON, a document (HTML, PDF, CSV) of the report shown,
and the comparison saved. A mixin of ui/main_window.py's MainWindow, whose state, dialogs, banner and views they
use."""

from __future__ import annotations

from pathlib import Path

from advisor.errors import AdvisorError
from advisor.report.io import save_report


class FileActions:
    def open_report(self, path: Path | None = None) -> bool:
        from advisor.report.io import load_report

        path = path or self.dialogs.open_file(self, "Open report", "Reports (*.json);;All (*)")
        if path is None:
            return False
        try:
            report = load_report(path)
        except AdvisorError as exc:  # a malformed report: say what is wrong; what is shown stays
            self.show_problem(f"Cannot open {path}: {exc}")
            return False
        self.banner.hide()
        self.log.appendPlainText(f"opened {path}")
        self.show_report(report, Path(path))
        # the line and bar above the tabs said how the last run went; they now follow the report shown
        self.stage.setText(f"Showing {path}")
        self.progress.reset()
        return True

    def save_as(self) -> None:
        if self.report is None:
            return
        path = self.dialogs.save_file(self, "Save report", "report.json", "Reports (*.json)")
        if path is not None:
            self.save_report_to(path)

    def save_report_to(self, path: Path) -> bool:
        if self.report is None:
            return False
        try:
            save_report(self.report, path)
        except AdvisorError as exc:  # never overwritten silently: the dialog asked, the core refuses
            self.show_problem(str(exc))
            return False
        self.state.saved(path)
        self.stage.setText(f"Report saved to {path}")
        return True

    def export_document(self, out: Path | None = None) -> bool:
        """HTML, PDF or CSV (by the file's extension) of the shown report, with the verdict if one was made."""
        from advisor.documents import FORMATS, integrity, write_document

        report, report_path = self.state.report, self.state.report_path
        if report is None:
            return False
        if report_path is None:
            self.show_problem("Save the report first (File > Save report as…): its SHA-256 goes in the document.")
            return False
        out = out or self.dialogs.save_file(self, "Save document", str(report_path.with_suffix(".html")),
                                            "HTML (*.html);;PDF (*.pdf);;CSV (*.csv)")
        if out is None:
            return False
        fmt = out.suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            self.show_problem(f"{out.name}: name the document .html, .pdf or .csv")
            return False
        self._register_pdf_writer()
        rec = self.decide_view.recommendation
        if rec is not None and rec.report_id != report.report_id:
            rec = None  # the Decide tab shows a language model's configuration: not this report's verdict
        try:
            write_document(report, integrity.sha256_file(report_path), fmt, out, rec, overwrite=out.exists())
        except AdvisorError as exc:
            self.show_problem(str(exc))
            return False
        except OSError as exc:
            self.show_problem(f"cannot write {out}: {exc.strerror or exc}")
            return False
        self.stage.setText(f"{fmt.upper()} document saved to {out}")
        return True

    @staticmethod
    def _register_pdf_writer() -> None:
        from advisor.documents import register_pdf_writer
        from ui.pdf import write

        register_pdf_writer(write)

    def save_comparison(self, out: Path | None = None) -> bool:
        from advisor.files import write_atomic

        out = out or self.dialogs.save_file(self, "Save comparison", "comparison.html", "HTML (*.html)")
        if out is None:
            return False
        try:
            write_atomic(out, self.compare_view.html(), overwrite=out.exists())
        except (AdvisorError, OSError) as exc:
            self.show_problem(f"cannot write {out}: {exc}")
            return False
        self.stage.setText(f"Comparison saved to {out}")
        return True
