"""Exercises 3, 5 and 6c: k-NN per digit, the latent grid and the decoded mosaics.

The student's results are computed here the way students write them (scikit-learn,
np.linspace / meshgrid, loops over tiles); the checks compute their own expected values.
"""

from __future__ import annotations

import numpy as np
import pytest
from check_fixtures import (
    GRID_N,
    TILE,
    case_args,
    expected_for,
    function_inputs,
    item_params,
    make_inputs,
    run,
    student_error,
)
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from grader.checks import StudentCallFailed

AE = expected_for("autoencoders")
GIVEN = AE["inputs"]


# -- knn_per_digit_accuracy -----------------------------------------------------------------


def knn_case(case: str) -> tuple[np.ndarray, ...]:
    return tuple(GIVEN[f"knn_{case}_{name}"] for name in ("z_train", "y_train", "z_test", "y_test"))


def per_digit(predicted: np.ndarray, y_test: np.ndarray) -> np.ndarray:
    return np.array([100.0 * np.mean(predicted[y_test == digit] == digit) for digit in range(10)])


def student_1nn(z_train, y_train, z_test, y_test) -> np.ndarray:
    nearest = NearestNeighbors(n_neighbors=1).fit(z_train).kneighbors(z_test, return_distance=False)[:, 0]
    return per_digit(y_train[nearest], y_test)


def knn_verdict(case: str, result: np.ndarray):
    probes = {"knn": {case: {"shape": list(np.shape(result))}}}
    params = item_params("autoencoders", f"3a-knn-{case}")
    return run("knn_accuracy", make_inputs(probes, {"knn": {case: np.asarray(result)}}, params, expected=AE))


@pytest.mark.parametrize("case", ["public", "hidden"])
def test_sklearn_1nn_percentages_per_digit_pass(case):
    verdict = knn_verdict(case, student_1nn(*knn_case(case)))
    assert verdict.fraction == 1.0, verdict.feedback


def test_3_nearest_neighbours_vote_fails_and_is_named():
    z_train, y_train, z_test, y_test = knn_case("hidden")
    predicted = KNeighborsClassifier(n_neighbors=3).fit(z_train, y_train).predict(z_test)
    verdict = knn_verdict("hidden", per_digit(predicted, y_test))
    assert verdict.fraction == 0.0
    assert (
        "the values match a 3-nearest-neighbour vote; the exercise asks for 1 nearest neighbour"
        in verdict.feedback
    )
    assert "on the reference latent codes" in verdict.feedback


def test_overall_accuracy_repeated_per_digit_fails_and_is_named():
    z_train, y_train, z_test, y_test = knn_case("public")
    nearest = NearestNeighbors(n_neighbors=1).fit(z_train).kneighbors(z_test, return_distance=False)[:, 0]
    overall = 100.0 * np.mean(y_train[nearest] == y_test)
    verdict = knn_verdict("public", np.full(10, overall))
    assert verdict.fraction == 0.0
    assert f"every digit gets the same value ({overall:.1f})" in verdict.feedback
    assert "compute the accuracy separately for the test images of each digit" in verdict.feedback


def test_fractions_instead_of_percentages_fail_and_are_named():
    verdict = knn_verdict("public", student_1nn(*knn_case("public")) / 100)
    assert verdict.fraction == 0.0
    assert (
        "the values are fractions (0..1); express each digit's accuracy as a percentage" in verdict.feedback
    )


def test_counts_of_correct_images_fail_with_the_worst_digit():
    z_train, y_train, z_test, y_test = knn_case("public")
    nearest = NearestNeighbors(n_neighbors=1).fit(z_train).kneighbors(z_test, return_distance=False)[:, 0]
    counts = np.array([np.sum((y_train[nearest] == y_test)[y_test == d]) for d in range(10)], dtype=float)
    verdict = knn_verdict("public", counts)
    assert verdict.fraction == 0.0
    assert "expected 100.00%, got 4.00%" in verdict.feedback


def test_knn_result_of_wrong_shape_fails():
    verdict = knn_verdict("public", np.zeros(40))
    assert verdict.fraction == 0.0
    assert "returned shape (40,); expected (10,)" in verdict.feedback


def test_knn_student_exception_raises_student_call_failed():
    probes = {
        "knn": {
            "public": {
                "error": student_error("exception", "knn_per_digit_accuracy", "bad", type="ValueError")
            }
        }
    }
    inputs = make_inputs(probes, {"knn": {}}, {"case": "public"}, expected=AE)
    with pytest.raises(StudentCallFailed) as caught:
        run("knn_accuracy", inputs)
    assert caught.value.error.feedback() == "knn_per_digit_accuracy raised ValueError: bad"


# -- latent_grid (matches_reference with the grid diagnoses) ---------------------------------------


def student_grid(z_min, z_max, n, flip=False, transpose=False, endpoint=True, swap=False) -> np.ndarray:
    xs = np.linspace(z_min[0], z_max[0], n, endpoint=endpoint)
    ys = np.linspace(z_max[1], z_min[1], n, endpoint=endpoint)
    if flip:
        ys = ys[::-1]
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    if transpose:
        grid = grid.transpose(1, 0, 2)
    if swap:
        grid = grid[..., ::-1]
    return grid


def grid_args(case: str) -> dict:
    return case_args("autoencoders", "latent_grid", case)


def grid_verdict(**mistake):
    results = {}
    for case in ("n15", "n4"):
        args = grid_args(case)
        results[case] = student_grid(args["z_min"], args["z_max"], int(args["n"]), **mistake)
    return run("matches_reference", function_inputs("autoencoders", "5a-latent-grid", results))


def test_corner_to_corner_grid_with_row_zero_on_top_passes():
    verdict = grid_verdict()
    assert verdict.fraction == 1.0, verdict.feedback
    assert verdict.feedback.startswith("The grid runs corner to corner")


@pytest.mark.parametrize(
    ("mistake", "phrase"),
    [
        (
            {"flip": True},
            "The grid is upside down: row 0 must be the top of the picture, at the highest z[1]",
        ),
        ({"transpose": True}, "Rows and columns are swapped"),
        ({"endpoint": False}, "it must reach the corners [-1.5, 0.5] and [3.0, 4.5]"),
        ({"swap": True}, "The two coordinates are swapped: grid[..., 0] is z[0]"),
    ],
)
def test_grid_mistakes_fail_and_are_named(mistake, phrase):
    verdict = grid_verdict(**mistake)
    assert verdict.fraction == 0.0
    assert phrase in verdict.feedback
    assert "latent_grid(z_min=[-1.5, 0.5], z_max=[3.0, 4.5], n=15): " in verdict.feedback


def test_a_mistake_made_for_both_n_is_explained_once():
    verdict = grid_verdict(flip=True)
    assert verdict.feedback.count("The grid is upside down") == 1
    assert "n=4): at index (0, 0, 1) expected 4.5, got 0.5 (the same mistake)." in verdict.feedback


def test_grid_wrong_for_one_n_only_earns_nothing():
    """partial = false: the item is one grid function, right for every n or wrong."""
    args = grid_args("n4")
    results = {
        "n15": student_grid(grid_args("n15")["z_min"], grid_args("n15")["z_max"], 15),
        "n4": student_grid(args["z_min"], args["z_max"], 4, flip=True),
    }
    verdict = run("matches_reference", function_inputs("autoencoders", "5a-latent-grid", results))
    assert verdict.fraction == 0.0
    assert verdict.feedback.startswith("latent_grid(z_min=[-1.5, 0.5], z_max=[3.0, 4.5], n=4): ")


def test_grid_of_flat_points_has_the_wrong_shape():
    args = grid_args("n15")
    points = student_grid(args["z_min"], args["z_max"], 15).reshape(-1, 2)
    results = {"n15": points, "n4": student_grid(args["z_min"], args["z_max"], 4)}
    verdict = run("matches_reference", function_inputs("autoencoders", "5a-latent-grid", results))
    assert verdict.fraction == 0.0
    assert "n=15): expected shape (15, 15, 2), got (225, 2)." in verdict.feedback


# -- decode_grid (reference decoder) and 6c ------------------------------------------------------


def tile(images: np.ndarray, n: int, column_wise: bool = False) -> np.ndarray:
    """A student's loop that pastes decoded image k into the mosaic."""
    height, width = images.shape[1:3]
    mosaic = np.zeros((n * height, n * width))
    for k, image in enumerate(images):
        row, col = (k % n, k // n) if column_wise else (k // n, k % n)
        mosaic[row * height : (row + 1) * height, col * width : (col + 1) * width] = image
    return mosaic


def decode_grid_verdict(mosaic: np.ndarray):
    probes = {"decode_grid": {"shape": list(mosaic.shape)}}
    return run("decode_grid_reference", make_inputs(probes, {"decode_grid": {"mosaic": mosaic}}, expected=AE))


def test_decode_grid_tiled_row_by_row_passes():
    verdict = decode_grid_verdict(tile(AE["artifacts"]["grid_images"], GRID_N))
    assert verdict.fraction == 1.0, verdict.feedback


def test_decode_grid_tiled_column_wise_fails_and_is_named():
    verdict = decode_grid_verdict(tile(AE["artifacts"]["grid_images"], GRID_N, column_wise=True))
    assert verdict.fraction == 0.0
    assert "the images are tiled column by column: block (i, j) must show grid[i, j]" in verdict.feedback


def test_decode_grid_upside_down_fails_and_is_named():
    verdict = decode_grid_verdict(tile(AE["artifacts"]["grid_images"], GRID_N)[::-1])
    assert verdict.fraction == 0.0
    assert "the mosaic is upside down (the reference decoder)" in verdict.feedback


def test_decode_grid_returning_the_image_stack_has_the_wrong_shape():
    verdict = decode_grid_verdict(AE["artifacts"]["grid_images"])
    assert verdict.fraction == 0.0
    assert (
        f"decode_grid returned shape (225, {TILE}, {TILE}); expected ({GRID_N * TILE}, {GRID_N * TILE})"
        in verdict.feedback
    )


def vae_grid_verdict(mosaic: np.ndarray, raw: np.ndarray):
    probes = {"train:vae": {"loss": [1.0, 0.5]}, "vae_grid": {"shape": list(mosaic.shape)}}
    arrays = {"vae_grid": {"mosaic": mosaic, "raw": raw}}
    return run("vae_grid", make_inputs(probes, arrays, expected=AE))


def test_vae_grid_of_the_students_decoder_passes():
    raw = np.random.default_rng(3).uniform(size=(GRID_N * GRID_N, 32, 32)).astype(np.float32)
    verdict = vae_grid_verdict(tile(raw, GRID_N), raw)
    assert verdict.fraction == 1.0, verdict.feedback
    assert "The 15x15 mosaic of your VAE decoder over [-3, 3]^2 is right" in verdict.feedback


def test_vae_grid_tiled_column_wise_fails():
    raw = np.random.default_rng(3).uniform(size=(GRID_N * GRID_N, 32, 32)).astype(np.float32)
    verdict = vae_grid_verdict(tile(raw, GRID_N, column_wise=True), raw)
    assert verdict.fraction == 0.0
    assert "tiled column by column" in verdict.feedback
    assert "your VAE decoder over [-3, 3]^2" in verdict.feedback


def test_the_vae_grid_figure_of_a_logits_decoder_shows_its_sigmoid():
    # TensorFlow's CVAE tutorial: the decoder ends without a sigmoid; the TA's figure shows images.
    import matplotlib.pyplot as plt

    from grader.assignments.autoencoders import stages

    logits = np.linspace(-8.0, 8.0, 9 * 4 * 4).reshape(9, 4, 4)
    figure = stages._vae_grid({}, {"raw": logits}, AE)
    shown = figure.axes[0].images[0].get_array()
    plt.close(figure)
    assert shown.min() >= 0.0 and shown.max() <= 1.0
    assert shown.max() == pytest.approx(1 / (1 + np.exp(-8.0)))
    pixels = np.linspace(0.0, 1.0, 9 * 4 * 4).reshape(9, 4, 4)
    figure = stages._vae_grid({}, {"raw": pixels}, AE)
    assert figure.axes[0].images[0].get_array().max() == pytest.approx(1.0)  # pixels are shown as they are
    plt.close(figure)
