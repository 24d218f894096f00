"""Made-up measured numbers in the shape ``summary.json`` gives them, for testing conclusions."""


def as_numbers(values: dict) -> dict:
    """{key: value} -> {key: {"value": value, "unit": "", "label": ""}} (``lecture.context.number``'s shape)."""
    return {key: {"value": value, "unit": "", "label": ""} for key, value in values.items()}
