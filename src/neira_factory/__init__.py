"""neira-factory: Neira's Factory System (Фабрикаторы) in Python."""

__version__ = "0.1.0"
