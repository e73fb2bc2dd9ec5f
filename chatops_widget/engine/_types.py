"""Array type aliases shared by the engine's modules (for type hints only).

Example:
    >>> import numpy as np
    >>> x: FloatArray = np.zeros(3)
    >>> x.dtype
    dtype('float64')
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
Int8Array: TypeAlias = npt.NDArray[np.int8]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
AnyArray: TypeAlias = npt.NDArray[Any]
