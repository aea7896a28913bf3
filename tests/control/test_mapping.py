"""Curves, ranges, relative encoders and OSC argument coercion."""
import math

import pytest

from graph_runtime.control import mapping as M
from graph_runtime.graph.node import Param

FLOAT = Param("x", "float", 0.0, -10.0, 10.0)


@pytest.mark.parametrize("curve,half", [("lin", 0.5), ("log", math.log10(5.5)),
                                        ("exp", (math.sqrt(10.0) - 1.0) / 9.0)])
def test_each_curve_is_exact_at_the_ends_and_bends_the_middle(curve, half):
    assert M.to_value(FLOAT, 0.0, 0.0, 10.0, curve) == 0.0
    assert M.to_value(FLOAT, 1.0, 0.0, 10.0, curve) == 10.0
    assert M.to_value(FLOAT, 0.5, 0.0, 10.0, curve) == pytest.approx(10.0 * half, abs=1e-12)
    # the inverse takes the value back to where the control sits (pickup, relative)
    v = M.to_value(FLOAT, 0.3, 0.0, 10.0, curve)
    assert M.to_position(FLOAT, v, 0.0, 10.0, curve) == pytest.approx(0.3, abs=1e-12)


def test_log_and_exp_bend_opposite_ways():
    assert M.shape("log", 0.25) > 0.25 > M.shape("exp", 0.25)


@pytest.mark.parametrize("style,value,clicks", [
    ("twos", 1, 1), ("twos", 5, 5), ("twos", 127, -1), ("twos", 65, -63),
    ("offset", 65, 1), ("offset", 63, -1), ("offset", 64, 0), ("offset", 70, 6)])
def test_relative_styles(style, value, clicks):
    assert M.relative_delta(style, value) == clicks


def test_out_of_range_is_clamped_like_a_typed_value():
    assert M.coerce(FLOAT, 99.0) == (10.0, None)
    assert M.coerce(FLOAT, -99) == (-10.0, None)
    assert M.to_value(FLOAT, 0.5, -50.0, 50.0, "lin") == 0.0
    assert M.to_value(FLOAT, 1.0, -50.0, 50.0, "lin") == 10.0


@pytest.mark.parametrize("arg", [float("nan"), float("inf"), "loud", b"\x00"])
def test_bad_osc_values_are_refused_with_a_reason(arg):
    value, reason = M.coerce(FLOAT, arg)
    assert value is None and reason


def test_choices_by_name_or_index_and_bools():
    mode = Param("mode", "choice", "a", choices=("a", "b", "c"))
    assert M.coerce(mode, "c") == ("c", None)
    assert M.coerce(mode, 1) == ("b", None)
    assert M.coerce(mode, 3)[0] is None
    assert M.coerce(mode, "z")[0] is None
    on = Param("on", "bool", False)
    assert M.coerce(on, True) == (True, None)
    assert M.coerce(on, 0) == (False, None)
    assert M.to_value(mode, 0.99, 0, 1, "lin") == "c"
    assert M.to_value(Param("n", "int", 0, 0, 10), 0.55, 0.0, 10.0, "lin") == 6
