"""Store templates render within a budget: no save or send spends the machine, and every
refusal at save time names the line."""

from __future__ import annotations

import time

import pytest

from chalicelib.core.errors import TemplateBudgetExceeded
from chalicelib.rendering import templating
from chalicelib.stores import overrides

NESTED_LOOPS = "Hello\n{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}"
CHEAP_FOR_DANA = (
    "{% if first_name == 'Dana' %}Thanks, Dana{% else %}\n"
    "{% for i in range(10000) %}{% for j in range(10000) %}{{ j }}{% endfor %}{% endfor %}{% endif %}"
)


pytestmark = pytest.mark.usefixtures("public_base_url")


def check(source: str, name: str = "email/survey.txt") -> templating.TemplateProblem | None:
    started = time.perf_counter()
    problem = templating.validate_override(name, "en", source, overrides.sample_context("survey"))
    assert time.perf_counter() - started < 2, "a save must never take long"
    return problem


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}", 1, "range()"),
        (NESTED_LOOPS, 2, "steps"),
        ("{{ ('x'*200000000)|length }}", 1, "numbers"),
        ("ok\n{{ ('x'*100000)*2000 }}", 2, "grows"),
        ("{{ 'x'|center(1000000) }}", 1, "grows"),
        ("{{ ('x'*10000)|replace('x', 'y'*10000) }}", 1, "grows"),
        ("{{ ('x'*10000).replace('x', 'y'*10000) }}", 1, "grows"),
        ("{{ (['x']*10000)|join('y'*10000) }}", 1, "grows"),
        ("{{ '%9999999s'|format('x') }}", 1, "format"),
        ("{{ '{:9999999}'.format('x') }}", 1, "format"),
        (
            "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
            1,
            "grows",
        ),
        ("a\nb\n{% for i in range(10000) %}{{ 'y' * 50 }}{% endfor %}", 3, "writes more"),
        ("{{ 2 ** (2 ** 20) }}", 1, "too large"),
        ("{{ cycler() }}", 1, "at least one item"),
        ("{% macro m() %}{{ m() }}{% endmacro %}\n{{ m() }}", 1, "macros"),
        ("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", 1, "nest"),
        ("x\n{{ " + "[" * 3000 + "]" * 3000 + " }}", 2, "nest"),
        ("".join("{%% for a%d in [1] %%}\n" % i for i in range(25)) + "{% endfor %}" * 25, 25, "nests too deeply"),
    ],
)
def test_a_costly_or_crashing_template_is_refused_quickly_with_its_line(source: str, line: int, words: str) -> None:
    problem = check(source)
    assert problem is not None
    assert (problem.line, words in problem.error) == (line, True), problem


def test_an_ordinary_template_still_renders() -> None:
    source = "Hello {{ first_name }}: {% for s in survey.scores %}<{{ s.score }}>{% endfor %} {{ items|map(attribute='title')|join(', ') }}"
    assert check(source) is None
    assert check("<p>{{ first_name|e }} {{ _('Thank you') }}</p>", "email/survey.html") is None


def test_a_template_cheap_for_the_sample_but_endless_for_others_fails_fast_at_send_time() -> None:
    # GIVEN a template that is cheap for the sample customer (Dana), so it saves
    assert check(CHEAP_FOR_DANA) is None
    # WHEN it renders for anyone else
    context = {**overrides.sample_context("survey"), "first_name": "Noa"}
    started = time.perf_counter()
    with pytest.raises(TemplateBudgetExceeded) as stopped:
        templating.render("email/survey.txt", "en", context, overrides={"email/survey.txt": CHEAP_FOR_DANA})
    # THEN it stops within its budget with a reason, instead of blocking the batch
    assert time.perf_counter() - started < 2
    assert "line 2" in stopped.value.message


def test_an_override_that_breaks_for_other_reasons_still_falls_back_to_the_built_in_text() -> None:
    context = overrides.sample_context("survey")
    store = {
        "store_id": "st1",
        "name": "Cedar & Sage",
        "support_email": "care@cedarsage.example",
        "sender_email": "hello@cedarsage.example",
    }
    text = templating.render("email/survey.txt", "en", context, store, overrides={"email/survey.txt": "{{ cycler() }}"})
    assert text == templating.render("email/survey.txt", "en", context, store)
