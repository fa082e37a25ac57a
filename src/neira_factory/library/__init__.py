"""Built-in implementations that adapter nodes bind to by name.

``get(name)`` returns a ``LibraryImpl`` whose ``func(input, params, ctx)``
returns the output JSON object or raises ``ImplError``. Text: ``echo``,
``reverse``, ``text_normalize``, ``regex_extract``; classification:
``keyword_classify``; mapping: ``json_map``; voice on espeak-ng:
``text_to_phonemes``, ``speak_adapter``; vision on Pillow and Tesseract:
``image_downscale``, ``image_binarize``, ``image_grayscale``, ``ocr``.
See docs/library.md.
"""

from neira_factory.library.registry import ImplContext, ImplError, LibraryImpl, get, io_schema, names
from neira_factory.library.schema import link_problems

__all__ = ["ImplContext", "ImplError", "LibraryImpl", "get", "io_schema", "link_problems", "names"]
