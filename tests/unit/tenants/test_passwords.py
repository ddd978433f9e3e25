"""Password hashes: production strength by default; the test suite's cheap
setting changes the cost, never what verifies."""

from __future__ import annotations

from argon2 import extract_parameters

from tenants.passwords import hasher_for


def test_strong_hashes_use_argon2id_at_rfc_9106_low_memory_cost() -> None:
    encoded = hasher_for("strong").hash("correct horse battery")
    parameters = extract_parameters(encoded)
    assert encoded.startswith("$argon2id$")
    assert (parameters.time_cost, parameters.memory_cost, parameters.parallelism) == (3, 65536, 4)
    assert hasher_for("strong").verify(encoded, "correct horse battery")


def test_hashes_carry_their_cost_so_either_strength_verifies_either() -> None:
    strong = hasher_for("strong").hash("correct horse battery")
    cheap = hasher_for("cheap").hash("correct horse battery")
    assert extract_parameters(cheap).memory_cost < extract_parameters(strong).memory_cost
    assert hasher_for("cheap").verify(strong, "correct horse battery")
    assert hasher_for("strong").verify(cheap, "correct horse battery")
