"""core.memos.once: the one way a page's parts share what they read."""

from core.memos import once


def test_once_works_once_per_memo_and_every_time_without_one():
    calls = []

    def work():
        calls.append(1)
        return len(calls)

    memo = {}
    assert once(memo, "key", work) == 1
    assert once(memo, "key", work) == 1
    assert once(memo, ("other", 1), work) == 2
    assert once(None, "key", work) == 3
    assert once(None, "key", work) == 4
    assert memo == {"key": 1, ("other", 1): 2}


def test_once_files_the_value_in_another_memo_unless_it_has_its_own():
    before = {"kept": "its own"}
    memo = {}
    assert once(memo, "shared", lambda: ["terms"], also_into=before) == ["terms"]
    assert before["shared"] is memo["shared"]
    assert once(memo, "kept", lambda: "the period's", also_into=before) == "the period's"
    assert before["kept"] == "its own"
    assert once(before, "shared", lambda: ["read again"]) == ["terms"]  # the other memo reads it from there
