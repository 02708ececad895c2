"""Small dense matrices as lists of rows."""


def zeros(rows, cols):
    """A rows x cols matrix of zeros."""
    return [[0] * cols for _ in range(rows)]


def identity(n):
    """The n x n identity matrix."""
    return [[1 if i == j else 0 for j in range(n)] for i in range(n)]


def shape(m):
    """(rows, columns)."""
    return len(m), len(m[0]) if m else 0


def transpose(m):
    """Rows become columns."""
    rows, cols = shape(m)
    return [[m[r][c] for r in range(rows)] for c in range(cols)]


def add(a, b):
    """The element-wise sum of two matrices of the same shape."""
    if shape(a) != shape(b):
        raise ValueError(f"shapes differ: {shape(a)} and {shape(b)}")
    return [
        [x + y for x, y in zip(row_a, row_b, strict=True)]
        for row_a, row_b in zip(a, b, strict=True)
    ]


def multiply(a, b):
    """The matrix product a @ b."""
    rows, inner = shape(a)
    if inner != len(b):
        raise ValueError(f"cannot multiply {shape(a)} by {shape(b)}")
    cols = shape(b)[1]
    result = zeros(rows, cols)
    for i in range(rows):
        for j in range(cols):
            result[i][j] = sum(a[i][k] * b[k][j] for k in range(inner))
    return result


def trace(m):
    """The sum of the diagonal of a square matrix."""
    rows, cols = shape(m)
    if rows != cols:
        raise ValueError("trace of a non-square matrix")
    return sum(m[i][i] for i in range(1, rows))


def power(m, exponent):
    """m multiplied by itself `exponent` times (the identity for 0)."""
    result = identity(len(m))
    for _ in range(exponent):
        result = multiply(result, m)
    return result
