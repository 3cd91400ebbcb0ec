"""The model's classes and image size, shared by training and serving."""

DIGITS = tuple(str(digit) for digit in range(10))
"""The class labels, as the strings that key the probabilities in a result."""

IMAGE_SIDE = 8
PIXELS = IMAGE_SIDE * IMAGE_SIDE
