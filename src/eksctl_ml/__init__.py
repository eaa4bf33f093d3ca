"""mlplat: provision and tear down a production GPU inference platform on AWS, phase by phase."""

__version__ = "0.1.0"
