"""The real phases of the provision order, one module (or folder) per phase."""
