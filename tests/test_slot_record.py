"""SlotRecord gives plain __slots__ records a dataclass's equality and repr."""

import pytest

from kubeskippy.slot_record import SlotRecord


class Pair(SlotRecord):
    __slots__ = ("left", "right")

    def __init__(self, left, right=None) -> None:
        self.left, self.right = left, [] if right is None else right


class OtherPair(Pair):
    __slots__ = ()


def test_records_of_one_class_with_equal_fields_are_equal_and_print_their_fields():
    assert Pair(1, [2]) == Pair(1, [2]) and Pair(1) != Pair(2)
    assert repr(Pair("a")) == "Pair(left='a', right=[])"


def test_another_class_with_the_same_fields_is_not_equal_and_a_record_is_not_hashable():
    assert Pair(1) != OtherPair(1) and Pair(1) != (1, [])
    with pytest.raises(TypeError):
        hash(Pair(1))
