"""Exercise 4a: the classifier built from the encoder (structure, head and loss)."""

from __future__ import annotations

from collections.abc import Sequence

from grader.checks.architecture import (
    Record,
    canonical_loss,
    effective_activation,
    grouped_layers,
    join_words,
    kind,
    layer_phrase,
    loss_words,
    numbered,
    transparent,
)
from grader.checks.base import CheckInputs, Verdict, check, sentences

HEAD_TYPES = frozenset(
    {
        "Flatten",
        "Dense",
        "Activation",
        "Softmax",
        "Dropout",
        "GlobalAveragePooling2D",
        "GlobalMaxPooling2D",
        "Reshape",
    }
)
CATEGORICAL = frozenset({"categorical_crossentropy", "sparse_categorical_crossentropy"})
NOT_REUSED = (
    "build the classifier on `encoder`'s layers (e.g. `encoder.layers[...]` or `encoder(inputs)`), so it "
    "uses the trained encoder"
)


def _conv_body(records: Sequence[Record]) -> int:
    """How many leading records form an encoder-like body (convs, pooling, activations, batch norm)."""
    count = 0
    while count < len(records) and (
        kind(records[count]) in ("conv", "pool", "shape") or transparent(records[count])
    ):
        count += 1
    return count if any(kind(r) == "conv" for r in records[:count]) else 0


@check("classifier_structure", probes=("classifier_structure",))
def classifier_structure(inputs: CheckInputs) -> Verdict:
    """Reuses the encoder up to its last conv block, adds Flatten + Dense(10), uses cross-entropy."""
    data = inputs.part("classifier_structure")
    classifier, encoder, shared = data["classifier"], data["encoder"], set(data["shared"])
    problems, passed = [], 0

    encoder = numbered(encoder)
    records = numbered(classifier["layers"])
    convs = [record for record in encoder if kind(record) == "conv"]
    kept, replaced = convs[:-1], convs[-1:]
    missing = [record for record in kept if record["name"] not in shared]
    fresh_copy = not shared and _conv_body(records) > 0
    if fresh_copy:
        # New layers of the same kinds (e.g. a second build_encoder() call): the head is judged on
        # what follows them, and the one problem is that the trained encoder is not used.
        problems.append(
            "your classifier's first layers are new Conv2D layers, not the layers of the encoder you were "
            f"given: {NOT_REUSED}"
        )
    elif missing or not kept:
        places = join_words([str(record["position"]) for record in missing or convs])
        noun = "layer" if len(missing or convs) == 1 else "layers"
        problems.append(
            f"the classifier does not reuse {noun} {places} of your encoder (its Conv2D layers): {NOT_REUSED}"
        )
    elif replaced[0]["name"] in shared:
        problems.append(
            f"the classifier still contains {layer_phrase(replaced[0], 'encoder')}, its last conv layer; "
            "replace it (and its pooling) with Flatten + Dense"
        )
    else:
        passed += 1

    head = records[_conv_body(records) :] if fresh_copy else [r for r in records if r["name"] not in shared]
    strange = [r for r in head if r["type"] not in HEAD_TYPES and kind(r) != "act"]
    dense = [i for i, r in enumerate(records) if r["type"] == "Dense"]
    output_ok = list(classifier["output_shapes"][0]) == [10]
    activation = effective_activation(records, dense[-1])[0] if dense else "none"
    loss = canonical_loss(classifier.get("loss"))
    from_logits = bool((classifier.get("loss") or {}).get("from_logits"))
    if strange:
        problems.append(
            "the head after the encoder layers should be Flatten + Dense; found "
            f"{grouped_layers(strange)} of your classifier"
        )
    elif not dense or not output_ok:
        problems.append(
            f"the classifier should end in Dense(10); its output is {classifier['output_shapes'][0]}"
        )
    elif activation not in ("softmax", "linear"):
        problems.append(
            f"the last Dense layer uses '{activation}'; use softmax (or no activation with from_logits=True)"
        )
    else:
        passed += 1

    if loss not in CATEGORICAL:
        problems.append(
            f"the classifier is compiled with {loss_words(loss)}; use a (sparse) categorical cross-entropy"
        )
    elif activation == "linear" and not from_logits:
        problems.append(
            "the last layer outputs logits (no softmax) but the loss is not built with from_logits=True"
        )
    elif activation == "softmax" and from_logits:
        problems.append(
            "the last layer applies softmax but the loss says from_logits=True: softmax would be applied "
            "twice"
        )
    else:
        passed += 1

    if problems:
        return Verdict(passed / 3, sentences(problems))
    return Verdict.passed(
        "The classifier reuses the encoder up to its last conv block, ends in Dense(10) and uses "
        "cross-entropy."
    )
