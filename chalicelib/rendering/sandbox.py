"""The budgeted Jinja sandbox that store templates render in.

Jinja's sandbox stops a template from reaching Python's internals, but not from spending
the machine: two nested ``range(100000)`` loops, ``'x' * 200000000`` or a macro that calls
itself run until the Lambda times out, with other stores' messages in the same batch.  Every
render of a store template here carries a :class:`Budget`: steps (loop iterations, calls,
attribute reads, operators, filters), wall time, output size, size of any value, macro
depth, and caps on ``range``, number literals and bracket nesting checked when the template
is compiled.  A template over budget raises :class:`TemplateBudgetExceeded` with the line.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from chalicelib.core.errors import TemplateBudgetExceeded

MAX_STEPS = 50_000
MAX_SECONDS = 0.5
MAX_OUTPUT = 100_000  # characters a rendered part may have
MAX_VALUE = 100_000  # characters or items any one value may have
MAX_RANGE = 10_000
MAX_NUMBER = 1_000_000  # largest number literal, and largest number passed to a call or filter
MAX_NESTING = 40  # brackets inside brackets
MAX_CALL_DEPTH = 30  # macros calling macros
STEP_FILTER = "aftercare_steps"
_WIDE_FORMAT = re.compile(r"[%{:.]\s*[<>^=+ #0-]*\d{7,}|%[^a-zA-Z%]*\*")
_SIZED = (str, list, tuple, dict, set, frozenset)


@dataclass
class Budget:
    """What one render may still spend."""

    steps: int = MAX_STEPS
    seconds: float = MAX_SECONDS
    output: int = MAX_OUTPUT
    depth: int = 0
    deadline: float = field(default=0.0)

    def start(self) -> None:
        self.deadline = time.perf_counter() + self.seconds

    def tick(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise TemplateBudgetExceeded(f"the template takes more than {MAX_STEPS} steps")
        if self.steps % 256 == 0 and time.perf_counter() > self.deadline:
            raise TemplateBudgetExceeded(f"the template takes longer than {MAX_SECONDS} seconds")


_current: ContextVar[Budget | None] = ContextVar("template_budget", default=None)


def _tick() -> None:
    budget = _current.get()
    if budget is not None:
        budget.tick()


def _sized(value: Any) -> Any:
    if isinstance(value, _SIZED) and len(value) > MAX_VALUE:
        raise TemplateBudgetExceeded(f"a value in the template grows beyond {MAX_VALUE} characters or items")
    return value


def _small_arguments(args: Iterable[Any]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_NUMBER:
            raise TemplateBudgetExceeded(f"numbers passed to a call or filter may not exceed {MAX_NUMBER}")


def _narrow_format(text: Any) -> None:
    if isinstance(text, str) and _WIDE_FORMAT.search(text):
        raise TemplateBudgetExceeded("format widths may not exceed six digits or come from arguments")


class _Counted:
    """An iterable whose every item costs a step (what a ``for`` loop walks over)."""

    def __init__(self, items: Any) -> None:
        self._items = items

    def __iter__(self) -> Iterator[Any]:
        for item in self._items:
            _tick()
            yield item

    def __len__(self) -> int:
        return len(self._items)


def _steps(items: Any) -> Any:
    if isinstance(items, jinja2.Undefined):
        return items
    return _Counted(items)


def _range(*args: int) -> _Counted:
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateBudgetExceeded(f"range() may not have more than {MAX_RANGE} items")
    return _Counted(numbers)


def _arg(args: tuple[Any, ...], kwargs: Mapping[str, Any], at: int, name: str, default: Any) -> Any:
    return args[at] if len(args) > at else kwargs.get(name, default)


def _length(value: Any) -> int:
    return len(value) if isinstance(value, _SIZED) else len(str(value))


def _expected_size(name: str, value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """How long the result of a string filter or method may get, before it is built."""
    if name in ("center", "ljust", "rjust", "zfill"):
        width = _arg(args, kwargs, 0, "width", 80)
        return max(_length(value), width if isinstance(width, int) else 0)
    if name == "indent":
        width = _arg(args, kwargs, 0, "width", 4)
        pad = width if isinstance(width, int) else _length(width)
        return _length(value) + pad * (str(value).count("\n") + 1)
    if name == "replace":
        old, new = str(_arg(args, kwargs, 0, "old", "")), str(_arg(args, kwargs, 1, "new", ""))
        text = str(value)
        return len(text) + (text.count(old) if old else len(text) + 1) * len(new)
    if name == "join" and isinstance(value, _SIZED):
        separator = _arg(args, kwargs, 0, "d", "")
        return len(value) * (_length(separator) + 1) + sum(_length(v) for v in value if isinstance(v, str))
    if name == "expandtabs":
        tabs = _arg(args, kwargs, 0, "tabsize", 8)
        return _length(value) + str(value).count("\t") * (tabs if isinstance(tabs, int) else 8)
    return 0


def _not_too_big(name: str, value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    if _expected_size(name, value, args, kwargs) > MAX_VALUE:
        raise TemplateBudgetExceeded(f"a value in the template grows beyond {MAX_VALUE} characters or items")


def _guarded(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    """A filter that costs a step, takes no huge numbers and returns no huge value."""
    passes_context = getattr(function, "jinja_pass_arg", None) is not None

    @wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        value_at = 1 if passes_context else 0
        _small_arguments(args[value_at + 1 :])
        _small_arguments(kwargs.values())
        if len(args) > value_at:
            if name == "format":
                _narrow_format(args[value_at])
            _not_too_big(name, args[value_at], args[value_at + 1 :], kwargs)
        return _sized(function(*args, **kwargs))

    return guarded


class BudgetedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with every loop, call and operator counted."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = _range
        self.globals.pop("lipsum", None)
        self.filters = {name: _guarded(f, name) for name, f in self.filters.items()}
        self.filters[STEP_FILTER] = _steps

    def guard_filters(self) -> None:
        """Wrap filters added after construction (the project's own)."""
        self.filters = {
            name: f if name == STEP_FILTER or getattr(f, "__wrapped__", None) else _guarded(f, name)
            for name, f in self.filters.items()
        }

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        _check_nesting(source, name, filename)
        tree = super()._parse(source, name, filename)
        for const in tree.find_all(nodes.Const):
            if (
                isinstance(const.value, (int, float))
                and not isinstance(const.value, bool)
                and abs(const.value) > MAX_NUMBER
            ):
                raise jinja2.TemplateSyntaxError(
                    f"numbers in a template may not exceed {MAX_NUMBER}", const.lineno, name, filename
                )
        for loop in list(tree.find_all(nodes.For)):
            loop.iter = nodes.Filter(loop.iter, STEP_FILTER, [], [], None, None, lineno=loop.iter.lineno)
        return tree

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, _SIZED) and isinstance(times, int) and len(seq) * max(times, 0) > MAX_VALUE:
                    raise TemplateBudgetExceeded(
                        f"a value in the template grows beyond {MAX_VALUE} characters or items"
                    )
            if _ints(left, right) and left.bit_length() + right.bit_length() > 4096:
                raise TemplateBudgetExceeded("numbers in the template grow too large")
        elif operator == "**":
            if _ints(left, right) and abs(left) > 1 and (right > 4096 or right * left.bit_length() > 4096):
                raise TemplateBudgetExceeded("numbers in the template grow too large")
            if isinstance(right, float) and right > 4096:
                raise TemplateBudgetExceeded("numbers in the template grow too large")
        elif operator == "+":
            if isinstance(left, _SIZED) and isinstance(right, _SIZED) and len(left) + len(right) > MAX_VALUE:
                raise TemplateBudgetExceeded(f"a value in the template grows beyond {MAX_VALUE} characters or items")
        elif operator == "%":
            _narrow_format(left)
        return _sized(super().call_binop(context, operator, left, right))

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick()
        value = super().getattr(obj, attribute)
        return value if callable(value) else _sized(value)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _tick()
        value = super().getitem(obj, argument)
        return value if callable(value) else _sized(value)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _narrow_format(value.__self__)
        return wrapped

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        _small_arguments(args)
        _small_arguments(kwargs.values())
        if isinstance(getattr(__obj, "__self__", None), str):
            _not_too_big(__obj.__name__, __obj.__self__, args, kwargs)
        budget = _current.get()
        if budget is not None:
            budget.depth += 1
            if budget.depth > MAX_CALL_DEPTH:
                raise TemplateBudgetExceeded(f"macros may not call each other more than {MAX_CALL_DEPTH} deep")
        try:
            return _sized(super().call(__context, __obj, *args, **kwargs))
        finally:
            if budget is not None:
                budget.depth -= 1


def _ints(left: Any, right: Any) -> bool:
    return (
        isinstance(left, int) and isinstance(right, int) and not isinstance(left, bool) and not isinstance(right, bool)
    )


def _check_nesting(source: str, name: str | None, filename: str | None) -> None:
    depth, line = 0, 1
    for char in source:
        if char == "\n":
            line += 1
        elif char in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise jinja2.TemplateSyntaxError(
                    f"brackets may not nest more than {MAX_NESTING} deep", line, name, filename
                )
        elif char in ")]}":
            depth = max(0, depth - 1)


@dataclass(frozen=True)
class Failure:
    """Why a template did not render, and the template line when it is known."""

    error: BaseException
    line: int | None


def template_line(template: jinja2.Template, error: BaseException) -> int | None:
    """The template line of the innermost frame of ``template``'s code in the traceback."""
    line = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return line


def render(template: jinja2.Template, values: Mapping[str, Any], budget: Budget | None = None) -> str:
    """Render within ``budget``; over budget raises :class:`TemplateBudgetExceeded` naming
    the line.  Other errors of the template propagate unchanged."""
    budget = budget or Budget()
    budget.start()
    token = _current.set(budget)
    chunks: list[str] = []
    written = 0
    try:
        stream = template.root_render_func(template.new_context(dict(values)))
        try:
            for chunk in stream:
                written += len(chunk)
                if written > budget.output:
                    line = _suspended_line(template, stream)
                    raise TemplateBudgetExceeded(_at(line, f"the template writes more than {budget.output} characters"))
                chunks.append(chunk)
        except RecursionError:
            raise TemplateBudgetExceeded("the template nests or recurses too deeply") from None
        except TemplateBudgetExceeded as exc:
            if exc.message.startswith("line "):
                raise
            line = template_line(template, exc)
            raise TemplateBudgetExceeded(_at(line, exc.message)) from None
    finally:
        _current.reset(token)
    return "".join(chunks)


def _at(line: int | None, message: str) -> str:
    return f"line {line}: {message}" if line else message


def _suspended_line(template: jinja2.Template, stream: Any) -> int | None:
    """Where the template was when it wrote too much (the innermost suspended generator)."""
    line = None
    while stream is not None and getattr(stream, "gi_frame", None) is not None:
        frame = stream.gi_frame
        if frame.f_code.co_filename == "<template>":
            line = template.get_corresponding_lineno(frame.f_lineno)
        stream = getattr(stream, "gi_yieldfrom", None)
    return line
