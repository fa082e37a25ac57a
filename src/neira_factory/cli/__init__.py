"""The `neira-factory` command line (`app`): commands by topic, the HTTP client they share, and the rendering."""
from .app import app

__all__ = ["app"]
