"""What every tab uses: translation, style, panes, plain-text helpers, the crash dialog."""
