"""Long hostile messages through everything that reads a resident's text: normalize and clean, the matcher
and its reply, the tokenizer, and the plan-category model. Prints milliseconds per message.

Target (issue 7): a 5,000-character message of one repeated Thai letter answers in under 100 ms.

    python bench/hostile_text.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content import load_content  # noqa: E402
from bot.handlers.services.qa import QuestionAnswering  # noqa: E402
from bot.nlp.categorize import Categorizer  # noqa: E402
from bot.nlp.normalize import clean_text  # noqa: E402
from bot.nlp.tokenize import for_content  # noqa: E402

MESSAGES = {
    "ก x 5000": "ก" * 5000,
    "กา x 2500": "กา" * 2500,
    "ภาษีป้าย x 600": "ภาษีป้าย" * 600,
    "ถนนชำรุด x 600": "ถนนชำรุด" * 600,
    "Thai digit x 5000": "๕" * 5000,
    "emoji x 3000": "😀" * 3000,
    "zero-width x 5000": "\u200b" * 5000,
    "combining marks x 5000": "่" * 5000,
    "two marks x 2500": "่้" * 2500,
    "letter+mark x 2500": "ก่" * 2500,
    "sara am parts x 2500": "ํา" * 2500,
    "เ x 5000": "เ" * 5000,
}


def ms(work: object, *args: object) -> float:
    start = time.perf_counter()
    work(*args)  # type: ignore[operator]
    return (time.perf_counter() - start) * 1000


def main() -> None:
    content = load_content(ROOT / "content")
    qa = QuestionAnswering.from_content(content)
    tokenizer = for_content(content)
    categorizer = Categorizer(content)
    categorizer.suggest("ถนน")  # load the model before timing
    print(f"{'message':<24}{'answer':>10}{'clean':>10}{'tokenize':>10}{'category':>10}   (ms)")
    for name, text in MESSAGES.items():
        answer = ms(lambda t: qa.reply_for(qa.read(t)), text)
        print(
            f"{name:<24}{answer:>10.1f}{ms(clean_text, text):>10.1f}{ms(tokenizer.words, text):>10.1f}"
            f"{ms(categorizer.suggest, text):>10.1f}"
        )


if __name__ == "__main__":
    main()
