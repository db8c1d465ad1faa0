"""The plots' axes: log-axis labels as plain Unicode (no mathtext), minor labels only on a narrow range,
the student's runs solid and the references dashed."""

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
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_a_wide_log_axis_shows_powers_of_ten_only():
    svg = plots.svg(_plot([1e2, 1e-1, 1e-5], [1e2, 1e-2, 1e-6]))
    labels = _tick_labels(svg)
    assert "10⁻³" in labels and "10⁰" in labels
    assert not any(lab.startswith("$") or "mathdefault" in lab for lab in labels)
    assert "0.5" not in labels and "5" not in labels


def test_a_narrow_log_axis_labels_the_ticks_between():
    labels = _tick_labels(plots.svg(_plot([6.0, 3.0, 0.3], [6.0, 2.0, 0.25])))
    assert "10⁰" in labels and {"2", "0.4"} <= set(labels)


def _dashes(svg: str) -> list[bool]:
    """Whether each data line (the paths with many points) is dashed, in drawing order."""
    lines = re.findall(r'<path d="M [^"]*"[^>]*style="([^"]*)"', svg)
    return ["stroke-dasharray" in style for style in lines]


def test_the_first_series_is_solid_and_the_rest_dashed_unless_a_series_says_so():
    default = _dashes(plots.svg(_plot([4.0, 2.0, 1.0], [4.0, 1.0, 0.5])))
    assert default[-2:] == [False, True]
    swapped = _dashes(plots.svg(_plot([4.0, 2.0, 1.0], [4.0, 1.0, 0.5], dashed=[True, False])))
    assert swapped[-2:] == [True, False]
