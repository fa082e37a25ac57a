"""Rhai's packages of native functions: ``package`` (``Package``, ``Overload``), one module per
package (``core``, ``arrays``, ``strings``, ``maps``, ``maths``, ``json``), the ``standard`` package
combining them, and the ``registry`` an engine looks its native functions up in."""
