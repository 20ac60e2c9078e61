"""Number types of the command lines, one copy for every command: each refuses bad input with one clear line.

    parser.add_argument("--page-cap", type=argtypes.positive_int)

argparse turns the ``ArgumentTypeError`` into the command's usage error (exit 4, like every bad input).
"""

from __future__ import annotations

import argparse
import math


def non_negative_int(text: str) -> int:
    """A whole number, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def positive_int(text: str) -> int:
    """A whole number, 1 or more."""
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def port(text: str) -> int:
    """A TCP port; 0 asks the system for a free one."""
    value = non_negative_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port (0-65535)")
    return value


def seconds(text: str) -> float:
    """A duration in seconds, 0 or more and finite."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more seconds")
    return value


def positive_seconds(text: str) -> float:
    """A duration in seconds, more than 0 and finite (a timeout)."""
    value = seconds(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 seconds")
    return value
