"""core.masking: secrets masked in a byte stream, however the stream is cut into chunks."""

from __future__ import annotations

import random

from devsync_tui.core.masking import MIN_MASKED, Masker, placeholder, plan_masks

SECRETS = {b"hunter22": "PW", b"abcd": "SHORTER", b"abcdef": "LONGER", b"k\xc3\xa9y!": "UTF"}


def _through(masker: Masker, chunks: list[bytes]) -> bytes:
    return b"".join(masker.feed(c) for c in chunks) + masker.flush()


def test_every_secret_is_replaced_by_its_placeholder() -> None:
    out = _through(Masker(SECRETS), [b"a hunter22 b abcdef c abcd d k\xc3\xa9y!\n"])
    assert out == (
        b"a <concealed by devsync: PW> b <concealed by devsync: LONGER> c "
        b"<concealed by devsync: SHORTER> d <concealed by devsync: UTF>\n"
    )


def test_a_secret_split_across_any_reads_is_still_masked() -> None:
    text = b"pre hunter22 mid abcdef k\xc3\xa9y! abcd\x00\xff binary hunter22"
    expected = _through(Masker(SECRETS), [text])
    rng = random.Random(7)
    for _ in range(300):
        cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, 12)))
        chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        assert _through(Masker(SECRETS), chunks) == expected
    for secret in SECRETS:
        assert secret not in expected


def test_only_a_possible_beginning_of_a_secret_is_held_back() -> None:
    masker = Masker(SECRETS)
    assert masker.feed(b"Password: ") == b"Password: "  # a prompt shows at once
    assert masker.pending == 0
    assert masker.feed(b"x hun") == b"x "
    assert masker.pending == 3
    assert masker.feed(b"ter22 y") == b"<concealed by devsync: PW> y"
    assert masker.feed(b"hunter2") == b""  # could still become the secret
    assert masker.flush() == b"hunter2"  # the stream ended (or went quiet): not a secret


def test_a_newline_releases_what_was_held_when_no_secret_spans_lines() -> None:
    masker = Masker({b"abcdefgh": "A"})
    assert masker.feed(b"abc\n") == b"abc\n"
    multi = Masker({b"ab\ncd": "M"})
    assert multi.feed(b"ab\n") == b""
    assert multi.feed(b"cd!") == b"<concealed by devsync: M>!"


def test_short_and_empty_values_are_not_masked_and_are_named() -> None:
    plan = plan_masks({"PIN": "123", "EMPTY": "", "TOKEN": "t0ken", "SAME": "t0ken"})
    assert plan.masks == {b"t0ken": "SAME"}
    assert plan.too_short == ["PIN"]
    assert MIN_MASKED == 4
    assert Masker({}).feed(b"anything") == b"anything"


def test_placeholder_names_the_variable() -> None:
    assert placeholder("API_TOKEN") == b"<concealed by devsync: API_TOKEN>"
