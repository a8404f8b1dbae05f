"""Documents for people who will never run the tool: HTML (and CSV) made from a report and its recommendation."""
