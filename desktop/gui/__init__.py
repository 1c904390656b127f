"""The window: the composition root (app), the main window, and a package per tab."""
