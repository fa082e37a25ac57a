"""Function-call machinery: native dispatch by argument types, method calls,
function-pointer calls and the ``this`` write-back protocol.

Script functions are compiled to Python functions ``f(c, depth, this, *args)``
and live in ``Context.fns`` keyed by (name, arity); native functions are looked
up in the run's registry (``Context.natives``).  Calls that may mutate a value
held in an immutable Python object (string ``this``) return the new value so the
compiled caller can store it back.
"""

from __future__ import annotations

from ..errors import ErrorFunctionNotFound, ErrorInFunctionCall, fn_not_found
from .values import CONTAINERS, NESTED, FnPtr, copy, type_name


class Unbound:
    """Marker for a missing ``this``."""

    __slots__ = ()

    def __repr__(self):
        return "<unbound this>"


UNBOUND = Unbound()


def signature(name, args):
    return f"{name} ({', '.join(type_name(a) for a in args)})"


def call_native(c, d, name, args):
    """Call a native function, charging its work; returns (result, new first argument)."""
    ov = c.natives.resolve(name, args)
    if ov is None:
        raise fn_not_found(signature(name, args))
    r = ov.fn(c, d, *args) if ov.ctx else ov.fn(*args)
    if ov.cost is not None:
        ov.charge(c, args, r)
    if ov.strmut:
        return r[1], c.check_size(r[0])
    if ov.shares and type(r) in CONTAINERS:
        r = copy(c, r)  # Rhai value semantics: the result shares nothing with the arguments
    return r, args[0] if args else None


def call_script(c, d, f, this, args):
    """Call a compiled script function; returns (result, this after the call)."""
    c.this_out = this
    r = f(c, d + 1, this, *args)
    return r, c.this_out


def call_fn(c, d, name, args):
    """``name(args)`` resolved at run time: script functions first, then natives."""
    f = c.fns.get((name, len(args)))
    if f is not None:
        return f(c, d + 1, UNBOUND, *args)
    return call_native(c, d, name, args)[0]


def call_fn_ref(c, d, name, args):
    """Like ``call_fn`` but the first argument is a variable passed by reference:
    returns (result, new first argument)."""
    f = c.fns.get((name, len(args)))
    if f is not None:
        return f(c, d + 1, UNBOUND, *args), args[0]
    return call_native(c, d, name, args)


def call_method(c, d, name, this, args):
    """``this.name(args)``; returns (result, new this)."""
    f = c.fns.get((name, len(args)))
    if f is not None:
        return call_script(c, d, f, this, args)
    if name == "call" and args and type(args[0]) is FnPtr and type(this) is not FnPtr:
        return call_ptr(c, d, args[0], args[1:], this)
    if type(this) is dict:
        p = this.get(name)
        if type(p) is FnPtr:
            return call_ptr(c, d, p, args, this)
    elif type(this) is FnPtr and name == "call":
        return call_ptr(c, d, this, args)[0], this
    return call_native(c, d, name, [this, *args])


def arity_of(fn):
    return fn.__code__.co_argcount - 3


def call_ptr(c, d, ptr, args, this=UNBOUND):
    """Call a function pointer (closure or named function); returns (result, new this).
    Curried arguments are passed as copies (the pointer keeps its own)."""
    if ptr.curry:
        args = [*(copy(c, a) for a in ptr.curry), *args]
    if ptr.fn is not None:
        if arity_of(ptr.fn) != len(args):
            raise ErrorFunctionNotFound(f"Function not found: {ptr.name} with {len(args)} arguments")
        return call_script(c, d, ptr.fn, this, args)
    f = c.fns.get((ptr.name, len(args)))
    if f is not None:
        return call_script(c, d, f, this, args)
    if this is UNBOUND:
        return call_native(c, d, ptr.name, args)[0], this
    return call_native(c, d, ptr.name, [this, *args])


def callback(c, d, ptr, this, *args, owned=0):
    """Call ``ptr`` from a native function (map, filter, ...), passing only as
    many of ``args`` as it accepts and binding ``this``; returns (result, new this).
    ``this`` is the element itself (the callback may change it); the arguments are
    values of the callback's own, as in Rhai (which clones them): array/map arguments
    are copied, except the first ``owned`` ones (already the callee's, e.g. reduce's
    accumulator).  Each call counts one operation, whatever ``ptr`` runs."""
    return bind(c, d, ptr, owned)(this, *args)


def _own(c, args, owned):
    return [copy(c, a) if i >= owned and type(a) in CONTAINERS else a for i, a in enumerate(args)]


def _charge_one(c):
    c.work += 1
    if c.work > c.wlim:
        c.charge(0)


def bind(c, d, ptr, owned=0):
    """``callback`` with ``ptr`` resolved once, for a native function's loop of calls: a
    function ``(this, *args) -> (result, new this)``.  A closure is called directly."""
    if type(ptr) is not FnPtr:
        raise ErrorFunctionNotFound(f"expected a function pointer, found {type_name(ptr)}")
    fn = ptr.fn
    if fn is None or ptr.curry:
        n = len(ptr.curry)

        def call_any(this, *args):
            _charge_one(c)
            want = arity_of(fn) - n if fn is not None else next(
                (k for k in range(len(args), -1, -1) if (ptr.name, n + k) in c.fns), len(args))
            args = args[:max(want, 0)]
            return call_ptr(c, d, ptr, list(args) if NESTED.isdisjoint(map(type, args))
                            else _own(c, args, owned), this)

        return call_any
    want, d1 = arity_of(fn), d + 1
    plain = fn.__code__.co_varnames[2] != "this"  # compiled without ``this``: it cannot change it
    if plain and want == 1:
        def call1(this, a, *_):
            c.work += 1
            if c.work > c.wlim:
                c.charge(0)
            return fn(c, d1, this, copy(c, a) if owned == 0 and type(a) in NESTED else a), this

        return call1
    if plain and want == 2:
        def call2(this, a, b, *_):
            c.work += 1
            if c.work > c.wlim:
                c.charge(0)
            return fn(c, d1, this, copy(c, a) if owned == 0 and type(a) in NESTED else a,
                      copy(c, b) if type(b) in NESTED else b), this

        return call2

    def call(this, *args):
        c.work += 1
        if c.work > c.wlim:
            c.charge(0)
        if len(args) != want:
            if len(args) < want:
                raise ErrorFunctionNotFound(f"Function not found: {ptr.name} with {len(args)} arguments")
            args = args[:want]
        if not NESTED.isdisjoint(map(type, args)):
            args = _own(c, args, owned)
        if plain:
            return fn(c, d1, this, *args), this
        c.this_out = this
        return fn(c, d1, this, *args), c.this_out

    return call


def direct(c, ptr, wants):
    """The compiled closure behind ``ptr`` when a native may call it straight, as
    ``fn(c, d + 1, this, *args)`` with as many arguments of its own as it takes (one of
    ``wants``), charging the calls itself (``Context.spans``): a closure, not curried, that
    never changes ``this``, in a run without data-size limits; else None."""
    if type(ptr) is not FnPtr or ptr.fn is None or ptr.curry or c.sizes is not None:
        return None
    fn = ptr.fn
    if arity_of(fn) not in wants or fn.__code__.co_varnames[2] == "this":
        return None
    return fn


def get_native(c, name, target):
    """The native property getter ``target.name`` applied to ``target``, or ``UNBOUND`` if
    there is none."""
    natives = c.natives
    if name not in natives.getters:
        return UNBOUND
    ov = natives.resolve(name, [target])
    if ov is None or ov.shares:
        return UNBOUND
    r = ov.fn(c, 0, target) if ov.ctx else ov.fn(target)
    if ov.cost is not None:
        ov.charge(c, (target,), r)
    return r


def wrap_fn_error(err, name):
    """Errors leaving a script function are wrapped in ErrorInFunctionCall,
    except system errors (limits), as Rhai does."""
    if not err.catchable:
        return err
    w = ErrorInFunctionCall(f"Error in call to function '{name}': {err.message}", value=err.value,
                            line=err.line, column=err.column)
    w.inner_error = err
    return w

