"""README.md's walkthrough says, for each step, the role and organisation that perform it;
these tests hold the table to the blocks that the end-to-end test runs
(``tests/e2e/test_readme_walkthrough.py``), without servers."""

from __future__ import annotations

import pytest

from contracts.names import canonical_organisation
from reitti.cli import token_organisation
from runtime.config import DEFAULT_MUNICIPALITIES
from runtime.roles import Role
from tests.support import walkthrough
from tests.support.walkthrough import WalkthroughError

STEPS = walkthrough.read()


def test_the_table_lists_each_step_once_in_the_order_of_the_blocks() -> None:
    assert [row.number for row in STEPS.rows] == [step.number for step in STEPS.steps]
    assert [row.number for row in STEPS.rows] == list(range(len(STEPS.rows)))
    assert len(STEPS.steps) >= 14, "referral to closure, and reporting's figures"


def test_step_zero_signs_one_token_per_role_with_the_organisation_the_code_wants() -> None:
    centre = DEFAULT_MUNICIPALITIES
    assert STEPS.tokens, "step 0 signs the tokens the steps use"
    for name, token in STEPS.tokens.items():
        assert token.role in {r.value for r in Role}, name
        # as `reitti token` would spell it: a social worker's is social_services:<slug>
        assert token_organisation(token.role, token.organisation, centre) == token.organisation, name
        assert canonical_organisation(token.organisation, centre) == token.organisation, name


@pytest.mark.parametrize("step", STEPS.steps[1:], ids=lambda s: f"{s.number}. {s.title}")
def test_each_step_calls_with_the_token_of_the_role_and_organisation_its_row_names(step) -> None:
    [row] = [r for r in STEPS.rows if r.number == step.number]
    used = STEPS.tokens_used(step)
    assert used, f"step {step.number} calls with none of step 0's tokens"
    assert {STEPS.tokens[name].role for name in used} == {row.role}, f"step {step.number}: {sorted(used)}"
    assert {STEPS.tokens[name].organisation for name in used} == {row.organisation}


def test_the_reader_refuses_a_section_it_cannot_read() -> None:
    with pytest.raises(WalkthroughError, match="no section"):
        walkthrough.parse("# Reitti\n")
    no_block = f"{walkthrough.SECTION}\n\n### 0. Tokens\n\nprose only\n"
    with pytest.raises(WalkthroughError, match="no ```sh block"):
        walkthrough.parse(no_block)
    with pytest.raises(WalkthroughError, match="never names intake"):
        walkthrough.runnable("echo hello", walkthrough.DEFAULT_URLS, walkthrough.README.parent)
