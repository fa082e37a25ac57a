"""Parameter type specs used when registering native functions."""

from ..runtime.values import Char, FnPtr, RhaiRange, Timestamp

INT = int
FLT = float
NUM = (int, float)
STR = str
CHR = Char
TXT = (str, Char)
ARR = list
BLB = bytearray
MAP = dict
BOOL = bool
FNP = FnPtr
RNG = RhaiRange
TS = Timestamp
