"""Command-line interface. Commands are thin: parse, load config, call one service method, render."""

from eksctl_ml.cli.app import app

__all__ = ["app"]
