"""Qwen Desktop: chat with Alibaba's Qwen models and search your notes by meaning."""

from importlib.metadata import PackageNotFoundError, version

APP_NAME = "Qwen Desktop"
APP_ID = "QwenDesktop"
ORG_NAME = "QwenDesktop"

try:
    __version__ = version("qwen-desktop")
except PackageNotFoundError:  # running from a source tree that was never installed, or frozen
    __version__ = "0.1.0"
