#!/usr/bin/python3
"""Every measured figure in the README comes from a result file on disk.

A figure block in README.md is marked

    <!-- figures: results/NAME.json -->
    ... text or a table that names results/NAME.json ...
    <!-- /figures -->

and every number in the block must be one of the strings the result file
lists under "readme" (the benchmark scripts write them as they print their
tables), so a figure cannot drift from the run that made it.  Outside the
blocks, a number that looks measured (seconds, speed-ups, GFLOP/s, MiB,
images/s, pairs/s, percentages, recall-like decimals) fails the check unless
it sits in code (backticks or a code fence), where the README shows
settings and commands rather than results, or in a sentence that says a
test asserts it (a tested bound, backed by the test it names).

    check_readme_figures.py [README.md]      # exit 0 when every figure is backed
"""
import json
import os
import re
import sys

# A sentence ends at ". ", at a blank line, or with its table row.
SENTENCE_END = re.compile(r"\.\s|\n\s*\n|\n(?=\|)|\|\n")
BLOCK = re.compile(r"<!-- figures: (\S+) -->(.*?)<!-- /figures -->", re.S)
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
MEASURED = re.compile(
    r"(?<![\w.])~?\d+(?:\.\d+)?(?:x\b|\s?(?:s\b|ms\b|min\b|h\b|%|GFLOP/s|TFLOP|MiB|GiB|img/s|images/s|pairs/s))"
    r"|(?<![\w.])0\.\d{3,}(?![\w])")


def strip_code(text):
    text = re.sub(r"```.*?```", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def backed_numbers(path):
    with open(path) as f:
        figures = json.load(f).get("readme")
    if not isinstance(figures, dict) or not figures:
        raise ValueError(f"{path} has no 'readme' object of the figures the README quotes")
    out = set()
    for value in figures.values():
        out.update(NUMBER.findall(str(value)))
    return out


def check(readme_path):
    root = os.path.dirname(os.path.abspath(readme_path))
    with open(readme_path) as f:
        text = f.read()
    problems = []
    for m in BLOCK.finditer(text):
        name, body = m.group(1), m.group(2)
        line = text.count("\n", 0, m.start()) + 1
        path = os.path.join(root, name)
        if name not in body:
            problems.append(f"README.md:{line}: the figure block does not name {name} in its text")
        if not os.path.exists(path):
            problems.append(f"README.md:{line}: {name} does not exist")
            continue
        try:
            backed = backed_numbers(path)
        except (ValueError, json.JSONDecodeError) as e:
            problems.append(f"README.md:{line}: {e}")
            continue
        visible = strip_code(body.replace(name, ""))
        for number in sorted(set(NUMBER.findall(visible)) - backed):
            problems.append(f"README.md:{line}: {number} is not among the figures of {name}")
    outside = strip_code(BLOCK.sub(lambda m: "\n" * m.group(0).count("\n"), text))
    start = 0
    for end in [m.end() for m in SENTENCE_END.finditer(outside)] + [len(outside)]:
        sentence, offset, start = outside[start:end], start, end
        if "assert" in sentence:
            continue
        for f in MEASURED.finditer(sentence):
            line = outside.count("\n", 0, offset + f.start()) + 1
            problems.append(f"README.md:{line}: '{f.group(0)}' looks measured but is in no figure block: "
                            f"name its result file, show it as a setting in backticks or name the test that asserts it")
    return problems


def main():
    readme = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
    problems = check(readme)
    for p in problems:
        print(p)
    blocks = len(BLOCK.findall(open(readme).read()))
    print(f"check_readme_figures: {blocks} figure blocks, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
