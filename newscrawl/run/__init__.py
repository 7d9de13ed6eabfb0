"""A run as the operator sees it: progress lines, the run summary and history, the layout-break monitors,
and how items appear in the log."""
