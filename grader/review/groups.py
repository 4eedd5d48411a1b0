"""Answer groups: similar written answers side by side, so one decision grades many.

Character n-grams (3 to 5, within words) weighted by TF-IDF, then agglomerative clustering
with a cosine distance threshold (scikit-learn): deterministic, no number of groups to guess.
Blank answers (empty, or the template's placeholder) form their own group, scored 0 in one action.
"""

from __future__ import annotations

from dataclasses import dataclass

BLANK = "blank"
DISTANCE = 0.55  # average cosine distance within a group; measured on the corpus's answers: paraphrases < 0.5


@dataclass(frozen=True)
class Group:
    key: str  # "blank", "g1", "g2", ... (g1 the largest), "single" for answers like no other
    students: tuple[str, ...]

    @property
    def label(self) -> str:
        if self.key == BLANK:
            return "Empty or placeholder answers"
        if self.key == "single":
            return "Answers unlike any other"
        return f"Similar answers {self.key[1:]}"


def group_answers(answers: dict[str, str], blank: set[str], distance: float = DISTANCE) -> list[Group]:
    """Groups of students by answer; ``blank`` students go to the blank group. Largest groups first."""
    texts = {student: text for student, text in answers.items() if student not in blank}
    groups = []
    if blank:
        groups.append(Group(BLANK, tuple(sorted(blank))))
    labels = _cluster(list(texts.values()), distance)
    members: dict[int, list[str]] = {}
    for student, label in zip(texts, labels, strict=True):
        members.setdefault(label, []).append(student)
    clusters = sorted((sorted(m) for m in members.values() if len(m) > 1), key=lambda m: (-len(m), m[0]))
    groups += [Group(f"g{number}", tuple(m)) for number, m in enumerate(clusters, start=1)]
    singles = sorted(s for m in members.values() if len(m) == 1 for s in m)
    if singles:
        groups.append(Group("single", tuple(singles)))
    return groups


def _cluster(texts: list[str], distance: float) -> list[int]:
    if len(texts) < 2:
        return list(range(len(texts)))
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=True).fit_transform(texts)
    except ValueError:  # no n-gram at all (answers of one or two characters)
        return list(range(len(texts)))
    model = AgglomerativeClustering(
        n_clusters=None, distance_threshold=distance, metric="cosine", linkage="average"
    )
    return [int(label) for label in model.fit_predict(vectors.toarray())]
