"""The plots: log-axis labels as plain Unicode, the values between powers of ten only on a narrow range,
the student's runs solid and the references dashed, text escaped, bad points dropped."""

from __future__ import annotations

import re

import pytest

from autograder.reporters import plots


@pytest.mark.parametrize(("value", "label"), [(1e-3, "10⁻³"), (1.0, "10⁰"), (100.0, "10²"), (3.0, ""),
                                              (0.0, ""), (-1.0, "")])
def test_powers_of_ten_are_labelled_in_unicode(value, label):
    assert plots._power_of_ten(value, 0) == label


def _plot(ys_student, ys_reference, dashed=None):
    xs = list(range(len(ys_student)))
    series = [{"label": "your SGD", "x": xs, "y": ys_student},
              {"label": "torch.optim.SGD", "x": xs, "y": ys_reference}]
    if dashed is not None:
        for s, d in zip(series, dashed, strict=True):
            s["dashed"] = d
    return {"title": "t", "xlabel": "step", "ylabel": "loss", "log": True, "series": series}


def _tick_labels(svg: str) -> list[str]:
    """The y axis' labels (right-aligned against the axis)."""
    return re.findall(r'<text[^>]*text-anchor="end"[^>]*>([^<]*)</text>', svg)


def test_a_wide_log_axis_shows_powers_of_ten_only():
    labels = _tick_labels(plots.svg(_plot([1e2, 1e-1, 1e-5], [1e2, 1e-2, 1e-6])))
    assert {"10⁻⁶", "10⁻³", "10⁰", "10²"} <= set(labels)
    assert not {"0.5", "5", "2", "0.2"} & set(labels)


@pytest.mark.parametrize(("ys", "between"), [([6.0, 3.0, 0.3], {"2", "5", "0.5"}),
                                             ([0.9, 0.5, 0.3], {"0.3", "0.4", "0.6", "0.8"})])
def test_a_narrow_log_axis_labels_the_values_between(ys, between):
    labels = set(_tick_labels(plots.svg(_plot(ys, ys))))
    assert between <= labels


def test_a_linear_axis_has_round_ticks():
    plot = dict(_plot([1.0, 0.5, 0.2], [0.9, 0.4, 0.1]), log=False)
    assert {"0", "0.2", "0.4", "0.6", "0.8", "1"} <= set(_tick_labels(plots.svg(plot)))


def _dashes(svg: str) -> list[bool]:
    """Whether each data line is dashed, in drawing order."""
    return ["stroke-dasharray" in line for line in re.findall(r"<polyline[^>]*>", svg)]


def test_the_first_series_is_solid_and_the_rest_dashed_unless_a_series_says_so():
    assert _dashes(plots.svg(_plot([4.0, 2.0, 1.0], [4.0, 1.0, 0.5]))) == [False, True]
    assert _dashes(plots.svg(_plot([4.0, 2.0, 1.0], [4.0, 1.0, 0.5], dashed=[True, False]))) == [True, False]


def test_text_is_escaped_and_points_a_log_axis_cannot_show_are_dropped():
    plot = _plot([4.0, float("nan"), 0.0, -1.0, 1.0], [4.0, 2.0, 1.0, float("inf"), 0.5])
    plot["title"] = "<script>alert(1)</script> & co"
    svg = plots.svg(plot)
    assert "<script" not in svg and "&lt;script&gt;" in svg and "&amp; co" in svg
    student, reference = re.findall(r'points="([^"]*)"', svg)
    assert len(student.split()) == 2 and len(reference.split()) == 4


def test_the_svg_is_deterministic_and_a_degenerate_plot_still_draws():
    plot = _plot([2.0, 2.0], [2.0, 2.0])
    assert plots.svg(plot) == plots.svg(plot) and "<polyline" in plots.svg(plot)
    empty = _plot([-1.0, 0.0], [float("nan"), -2.0])
    assert plots.svg(empty).startswith("<svg") and "<polyline" not in plots.svg(empty)


def test_a_log_axis_labels_its_ticks_one_way():
    few = {"title": "t", "caption": "", "xlabel": "step", "ylabel": "loss", "log": True,
           "series": [{"label": "a", "x": [0, 1, 2], "y": [0.4, 1.5, 6.0]}]}
    labels = _tick_labels(plots.svg(few))
    assert labels and all("10" not in lab or lab == "10" for lab in labels), labels  # 0.5, 1, 2, 5: no 10⁰
    many = dict(few, series=[{"label": "a", "x": [0, 1, 2], "y": [1e-6, 1e-2, 10.0]}])
    labels = _tick_labels(plots.svg(many))
    assert labels and all(lab.startswith("10") for lab in labels), labels


def test_the_legend_goes_where_it_hides_no_curve():
    steps = list(range(50))
    falling = {"title": "t", "caption": "", "xlabel": "step", "ylabel": "loss", "log": False,
               "series": [{"label": "your SGD", "x": steps, "y": [50 - t for t in steps]},
                          {"label": "torch.optim.SGD", "x": steps, "y": [49 - t for t in steps]}]}
    rising = dict(falling, series=[dict(s, y=list(reversed(s["y"]))) for s in falling["series"]])
    for plot in (falling, rising):
        text = plots.svg(plot)
        box = re.search(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="#ffffff" '
                        r'fill-opacity', text)
        bx, by, bw, bh = map(float, box.groups())
        points = [tuple(map(float, p.split(","))) for line in re.findall(r'points="([^"]+)"', text)
                  for p in line.split()]
        assert not [p for p in points if bx <= p[0] <= bx + bw and by <= p[1] <= by + bh]
