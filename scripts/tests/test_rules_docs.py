"""The rules pages under docs/ name the tests that check their worked examples; every test they
name must exist (a renamed or deleted test would leave an example unchecked), and every page
must be reachable from docs/README.md."""

import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = os.path.join(ROOT, "docs")
SWIFT_TESTS = os.path.join(ROOT, "Tests", "BillingEngineTests")
PYTHON_TESTS = os.path.join(ROOT, "examples", "python", "tests")


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def rules_pages():
    return sorted(name for name in os.listdir(DOCS) if name.startswith("rules-") and name.endswith(".md"))


class RulesDocsTests(unittest.TestCase):
    def test_every_named_test_exists(self):
        swift = {}
        for name in os.listdir(SWIFT_TESTS):
            if name.endswith(".swift"):
                text = read(os.path.join(SWIFT_TESTS, name))
                swift[name[:-len(".swift")]] = set(re.findall(r"@Test\s+func\s+(\w+)", text))
        python = {}
        for name in os.listdir(PYTHON_TESTS):
            if name.startswith("test_") and name.endswith(".py"):
                python[name] = set(re.findall(r"^def (test_\w+)", read(os.path.join(PYTHON_TESTS, name)), re.M))
        all_python = set().union(*python.values())
        missing, count = [], 0
        for page in rules_pages():
            text = read(os.path.join(DOCS, page))
            for suite, test in re.findall(r"`(\w+Tests)\.(\w+)`", text):
                count += 1
                if test not in swift.get(suite, set()):
                    missing.append(f"{page}: {suite}.{test}")
            for file, test in re.findall(r"`(test_\w+\.py)::(test_\w+)`", text):
                count += 1
                if test not in python.get(file, set()):
                    missing.append(f"{page}: {file}::{test}")
            for test in re.findall(r"`(test_\w+)`", text):
                count += 1
                if test not in all_python:
                    missing.append(f"{page}: {test}")
        self.assertGreater(count, 100)
        self.assertEqual(missing, [], "tests named in docs/ that do not exist")

    def test_every_page_is_in_the_index(self):
        index = read(os.path.join(DOCS, "README.md"))
        for page in rules_pages() + ["catalogue.md", "catalogue.json"]:
            self.assertIn(f"]({page})", index, page)

    def test_no_reference_outside_the_repository(self):
        for name in ["README.md", os.path.join("include", "billing.h")] + [os.path.join("docs", p) for p in os.listdir(DOCS)]:
            self.assertNotIn("domain-rules.md", read(os.path.join(ROOT, name)), name)


if __name__ == "__main__":
    unittest.main()
