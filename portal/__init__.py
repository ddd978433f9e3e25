"""Outsourcing collaboration portal."""

import os

# Piccolo looks for its configuration module by this name; the CLI, the app
# and Piccolo's own commands all go through the same settings.
os.environ.setdefault("PICCOLO_CONF", "portal.piccolo_conf")
