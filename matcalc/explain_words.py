"""The sentences of a derivation document, in English and Korean.

Placeholders: ``{x}``/``{y}`` are an input and a node's output in inline math, ``{xin}``/``{yin}``
the same with their spaces (``x ∈ ℝⁿ``), ``{space}`` and ``{tensor}`` spaces in inline math,
``{x_subj}``-style keys the Korean particles that follow a name (see :func:`particles`). Every
shape is spoken of as a space, ℝ, ℝⁿ or ℝ^{m×n}, never as "1×1".
"""

from __future__ import annotations

from typing import Any

__all__ = ["TEXT", "particles"]

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Backpropagation through {what}",
        "forward": "Forward pass",
        "forward_intro": "The program, step by step, with the space every value lies in:",
        "inputs": "Inputs",
        "backward": "Backward pass",
        "backward_intro": ("Going from the loss back to the inputs, every node applies the chain "
                           "rule:"),
        "rule":
            r"\text{Downstream Gradient} = \text{Upstream Gradient} \times \text{Local Gradient}",
        "node": "Node",
        "upstream": "Upstream gradient",
        "local": "Local gradient",
        "downstream": "Downstream gradient",
        "is_loss": "{y} is the loss itself, so its upstream gradient is 1:",
        "upstream_from": ("How much the loss changes when {y} changes; it flows in from the nodes "
                          "that use {y}:"),
        "upstream_value": "Computed at the nodes after this one, it is",
        "local_intro": "How much {y} changes when {x} changes, looking at this node alone:",
        "scalar": "Both are scalars, so the local gradient is a scalar:",
        "row": ("{y} is a scalar and {xin}, so the local gradient has one entry per entry of {x}; "
                "in numerator layout it is a row, in {space}:"),
        "gradient": ("{y} is a scalar and {xin}, so the local gradient has one entry per entry of "
                     "{x}, arranged like {x}, in {space}:"),
        "jacobian": ("{yin} and {xin} are both vectors, so the local gradient is their Jacobian "
                     "matrix, in {space}:"),
        "diagonal": ("The operation is elementwise: entry i of {y} depends only on entry i of "
                     "{x}. So the Jacobian, in {space}, is diagonal:"),
        "elementwise": ("{yin} and {xin}, and the operation is elementwise: entry (i, j) of {y} "
                        "depends only on entry (i, j) of {x}. Of the local gradient, an array in "
                        "{tensor}, only the entries whose indices match are nonzero: stacking "
                        "columns (vec), it is the diagonal matrix"),
        "entrywise": "Entry by entry, it is simply",
        "entrywise_after": "so upstream × local is an entrywise product (⊙), not a matrix product.",
        "kron": ("{yin} and {xin}: every entry of {y} can depend on every entry of {x}, so the "
                 "local gradient is a 4-D array in {tensor}. Stacking columns (vec), it is the "
                 "matrix"),
        "kron_nodense": ("{yin} and {xin}: the local gradient is a 4-D array in {tensor}; it is "
                         "never formed — the chain rule applies it through its vector–Jacobian "
                         "product."),
        "downstream_intro": ("How much the loss changes when {x} changes: upstream × local, "
                             "simplified and arranged like {x}:"),
        "shape_ok": "It lies in {s}, like {x}, as it must.",
        "sum_note": ("{x} is used by {k} nodes; its gradient is the sum of the downstream "
                     "gradients from each of them."),
        "result": "Result",
        "result_intro": "Putting the steps together, in terms of the inputs:",
        "example": "Worked example",
        "example_intro": "With these inputs:",
        "forward_values": "Forward values",
        "gradient_values": "Gradients",
        "figure_values": ("Computational graph: forward values in green above each edge, "
                          "gradients in red below."),
        "figure_shapes": ("Computational graph: operations are nodes, and each edge carries a "
                          "value with its name and shape."),
        "figure_scalar": ("Computational graph: operations are nodes, and each edge carries a "
                          "value."),
        "figure_missing": "matcalc could not draw {file}: {reason} To draw it: {how}",
        "exercise": "Exercise",
        "exercise_intro": ("Derive {g} by hand, step by step as above. It must lie in {space}, "
                           "like {x}. Then check your answer, written in LaTeX or in matcalc's "
                           "text:"),
        "exercise_answer": "Answer",
    },
    "ko": {
        "title": "{what}의 역전파",
        "forward": "순전파 (Forward pass)",
        "forward_intro": ("입력에서 출발해 각 단계의 값을 차례대로 계산한다. 각 값이 속하는 "
                          "공간(크기)도 함께 적었다."),
        "inputs": "입력",
        "backward": "역전파 (Backward pass)",
        "backward_intro": ("손실에서 출발해 입력 방향으로 그래프를 거슬러 올라가며, 각 노드에서 "
                           "연쇄 법칙 (Chain Rule)을 적용한다."),
        "rule":
            r"\text{Downstream Gradient} = \text{Upstream Gradient} \times \text{Local Gradient}",
        "node": "노드",
        "upstream": "Upstream Gradient",
        "local": "Local Gradient",
        "downstream": "Downstream Gradient",
        "is_loss": "{y}{y_topic} 손실 함수 자체이므로 Upstream Gradient는 1이다.",
        "upstream_from": ("노드의 출력 {y}{y_subj} 최종 손실 함수에 얼마나 영향을 미치는지에 대한 "
                          "값으로, {y}{y_obj} 사용하는 뒤쪽 노드에서 흘러들어온다."),
        "upstream_value": "뒤쪽 노드에서 이미 계산한 값은 다음과 같다.",
        "local_intro": ("다른 노드와 상관없이, 이 노드만 보았을 때 {x}{x_subj} 변하면 {y}{y_subj} "
                        "얼마나 변하는지를 나타낸다."),
        "scalar": "둘 다 스칼라이므로 Local Gradient도 스칼라이다.",
        "row": ("{y}{y_topic} 스칼라이고 {xin}인 벡터이므로, Local Gradient는 {x}의 원소마다 "
                "하나씩 값을 가진다. 분자 레이아웃(numerator layout)으로 쓰면 {space}에 속하는 행 "
                "벡터이다."),
        "gradient": ("{y}{y_topic} 스칼라이고 {xin}이므로, Local Gradient는 {x}의 원소마다 하나씩 "
                     "값을 가지며 {x}{x_with} 같은 모양으로 배열된다. 즉 {space}에 속한다."),
        "jacobian": ("둘 다 벡터이므로({yin}, {xin}), Local Gradient는 {space}에 속하는 "
                     "야코비안(Jacobian) 행렬이다."),
        "diagonal": ("원소별(elementwise) 연산이므로 {y}의 i번째 원소는 {x}의 i번째 원소에만 "
                     "의존한다. 따라서 {space}에 속하는 야코비안은 대각 행렬이다."),
        "elementwise": ("{yin}, {xin}이고, 원소별(elementwise) 연산이므로 {y}의 (i, j) 원소는 "
                        "{x}의 (i, j) 원소에만 의존한다. {tensor}에 속하는 4차원 Local Gradient "
                        "중에서 첨자가 일치하는 원소만 0이 아니므로, 열을 쌓아(vec) 행렬로 쓰면 "
                        "다음과 같은 대각 행렬이 된다."),
        "entrywise": "원소 단위로 쓰면 간단히 다음과 같다.",
        "entrywise_after": ("따라서 Upstream Gradient × Local Gradient는 행렬 곱이 아니라 원소별 "
                            "곱(⊙)이 된다."),
        "kron": ("{yin}, {xin}이므로 {y}의 모든 원소가 {x}의 모든 원소에 의존할 수 있다. 따라서 "
                 "Local Gradient는 {tensor}에 속하는 4차원 텐서이다. 열을 쌓아(vec) 행렬로 쓰면 "
                 "다음과 같다."),
        "kron_nodense": ("{yin}, {xin}이므로 Local Gradient는 {tensor}에 속하는 4차원 텐서이다. "
                         "이 텐서를 직접 만들지 않고, 연쇄 법칙을 벡터-야코비안 곱으로 적용한다."),
        "downstream_intro": ("노드의 입력 {x}{x_subj} 최종 손실 함수에 얼마나 영향을 미치는지에 "
                             "대한 값으로, Chain Rule에 의해 'Upstream Gradient × Local "
                             "Gradient'로 계산된다. 정리하여 {x}{x_with} 같은 모양으로 쓰면 "
                             "다음과 같다."),
        "shape_ok": "{x}{x_with} 마찬가지로 {s}에 속한다.",
        "sum_note": ("{x}{x_topic} {k}개의 노드에서 사용되므로, 각 노드에서 온 Downstream "
                     "Gradient를 모두 더한다."),
        "result": "결과",
        "result_intro": "각 단계를 모으면, 입력으로 나타낸 최종 기울기는 다음과 같다.",
        "example": "계산 예시",
        "example_intro": "입력값이 다음과 같을 때:",
        "forward_values": "순전파 값",
        "gradient_values": "기울기",
        "figure_values": ("계산 그래프: 각 간선 위의 초록색 값은 순전파 값, 아래의 빨간색 값은 "
                          "기울기이다."),
        "figure_shapes": "계산 그래프: 노드는 연산이고, 각 간선에는 그 값의 이름과 크기를 적었다.",
        "figure_scalar": "계산 그래프: 노드는 연산이고, 각 간선은 값을 나른다.",
        "figure_missing": "matcalc가 {file}을(를) 그리지 못했다: {reason} 그리는 방법: {how}",
        "exercise": "연습 문제",
        "exercise_intro": ("위와 같은 방법으로 {g}{g_obj} 직접 유도해 보자. 결과는 {x}{x_with} "
                           "마찬가지로 {space}에 속해야 한다. LaTeX 또는 matcalc 문법으로 쓴 답은 "
                           "다음 명령으로 확인할 수 있다."),
        "exercise_answer": "정답 보기",
    },
}

# Korean particles follow the sound of the word before them: the letters l, m, n, r and the
# digits 0, 1, 3, 6, 7, 8 are read with a final consonant (엘, 엠, 엔, 알; 영, 일, 삼, 육, 칠, 팔).
_FINAL_CONSONANT = set("lmnrLMNR013678")
_RIEUL = set("lrLR178")  # a final ㄹ takes 로, not 으로


def particles(info: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """Add Korean particles (은/는, 이/가, 을/를, 와/과, 으로/로) after each named placeholder."""
    for key, name in names.items():
        last = name[-1:]
        hard = last in _FINAL_CONSONANT
        info[key + "_topic"] = "은" if hard else "는"
        info[key + "_subj"] = "이" if hard else "가"
        info[key + "_obj"] = "을" if hard else "를"
        info[key + "_with"] = "과" if hard else "와"
        info[key + "_to"] = "로" if (not hard or last in _RIEUL) else "으로"
    return info
