"""Exercise 4a: the classifier built from the encoder (structure, head and loss)."""

from __future__ import annotations

from grader.checks.architecture import canonical_loss, effective_activation, kind, layer_label, loss_words
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


@check("classifier_structure", probes=("classifier_structure",))
def classifier_structure(inputs: CheckInputs) -> Verdict:
    """Reuses the encoder up to its last conv block, adds Flatten + Dense(10), uses cross-entropy."""
    data = inputs.part("classifier_structure")
    classifier, encoder, shared = data["classifier"], data["encoder"], set(data["shared"])
    problems, passed = [], 0

    convs = [record["name"] for record in encoder if kind(record) == "conv"]
    kept, replaced = convs[:-1], convs[-1:]
    missing = [name for name in kept if name not in shared]
    if missing or not kept:
        problems.append(f"the classifier does not reuse the encoder's conv layers {missing or convs}")
    elif set(replaced) & shared:
        problems.append(
            f"the classifier still contains the encoder's last conv layer '{replaced[0]}'; replace it (and "
            f"its "
            "pooling) with Flatten + Dense"
        )
    else:
        passed += 1

    records = classifier["layers"]
    head = [r for r in records if r["name"] not in shared]
    strange = [layer_label(r) for r in head if r["type"] not in HEAD_TYPES and kind(r) != "act"]
    dense = [i for i, r in enumerate(records) if r["type"] == "Dense"]
    output_ok = list(classifier["output_shapes"][0]) == [10]
    activation = effective_activation(records, dense[-1])[0] if dense else "none"
    loss = canonical_loss(classifier.get("loss"))
    from_logits = bool((classifier.get("loss") or {}).get("from_logits"))
    if strange:
        problems.append(
            f"the head after the encoder layers should be Flatten + Dense; found {', '.join(strange)}"
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
