"""The Settings tab: connection, key, model and notes settings."""
