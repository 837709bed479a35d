"""A tiny module for the sample pipelines to lint, test and type-check."""


def add(a: int, b: int) -> int:
    """Return the sum of two integers."""
    return a + b


def mean(values: list[float]) -> float:
    """Return the arithmetic mean of a non-empty list."""
    if not values:
        raise ValueError("mean() of an empty list")
    return sum(values) / len(values)
