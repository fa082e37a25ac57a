"""Runtime support for compiled Rhai scripts: values, operators, calls, limits."""
