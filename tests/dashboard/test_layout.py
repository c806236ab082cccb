"""The graph layout: components apart, deterministic, inside the drawing."""

import numpy as np

from dashboard.charts.graph_layout import connected_components, spring_layout

STAR = [(0, leaf, 1.0) for leaf in range(1, 13)]  # a hub and twelve leaves
PAIRS = [(13, 14, 1.0), (15, 16, 1.0), (17, 18, 1.0)]


def test_components_are_found_largest_first():
    assert connected_components(20, STAR + PAIRS) == [list(range(13)), [13, 14], [15, 16], [17, 18], [19]]


def test_components_are_laid_out_apart_and_the_main_one_is_not_squeezed():
    positions = spring_layout(20, STAR + PAIRS)
    assert positions.shape == (20, 2) and np.abs(positions).max() <= 1.0 + 1e-6
    star = positions[:13]
    star_radius = np.linalg.norm(star - star.mean(axis=0), axis=1).max()
    for members in ([13, 14], [15, 16], [17, 18], [19]):
        gap = np.linalg.norm(positions[members][:, None, :] - star[None, :, :], axis=2).min()
        assert gap > 0.05  # no island sits inside the star
    assert star_radius > 0.3  # the star spans a good part of the drawing
    leaves = np.linalg.norm(star[1:] - star[0], axis=1)
    assert leaves.min() > 0.08  # the hub's leaves keep their distance from it


def test_the_layout_is_deterministic():
    assert np.array_equal(spring_layout(20, STAR + PAIRS), spring_layout(20, STAR + PAIRS))
