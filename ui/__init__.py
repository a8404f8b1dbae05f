"""The desktop app (PySide6 + pyqtgraph) over the core's request, event stream and report."""
