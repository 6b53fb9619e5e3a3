from buurtsignaal.domain.notes import Address, area_key, keyed_hash, subject_key

SECRET = "s" * 40


def test_same_household_however_typed() -> None:
    a = Address("3531 ab", 14, "a")
    b = Address("3531AB", 14, "-A ")
    assert a.normalised() == b.normalised() == "3531AB|14|A"
    assert subject_key(SECRET, a) == subject_key(SECRET, b)


def test_keys_differ_per_household_secret_and_purpose() -> None:
    a = Address("3531AB", 14)
    assert subject_key(SECRET, a) != subject_key(SECRET, Address("3531AB", 16))
    assert subject_key(SECRET, a) != subject_key("t" * 40, a)
    assert keyed_hash(SECRET, "household", "x") != keyed_hash(SECRET, "area", "x")
    assert len(subject_key(SECRET, a)) == 32
    assert area_key(SECRET, "GM0344", "3531") != area_key(SECRET, "GM0307", "3531")


def test_key_does_not_contain_the_address() -> None:
    key = subject_key(SECRET, Address("3531AB", 14))
    assert "3531" not in key
