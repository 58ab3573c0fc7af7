"""The layering the README's table "Targets and what each may use" states is the one
Package.swift declares, and no source imports a module its target does not depend on.

The compiler enforces the graph Package.swift declares (a wrong import does not compile);
this test keeps the written table true and catches an import of a system module (CSQLite,
CSodium) that SwiftPM would let through transitively."""
import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SYSTEM = {"Glibc", "Darwin", "FoundationEssentials"}


def package_targets():
    text = open(os.path.join(ROOT, "Package.swift"), encoding="utf-8").read()
    targets = {}
    for m in re.finditer(r'\.target\(\s*name:\s*"(\w+)",(.*?)\n        \)', text, re.S):
        deps = re.search(r"dependencies:\s*\[([^\]]*)\]", m.group(2))
        targets[m.group(1)] = set(re.findall(r'"(\w+)"', deps.group(1))) if deps else set()
    return targets


def readme_table():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    section = text[text.index("### Targets and what each may use"):]
    table = {}
    for line in section.splitlines():
        m = re.match(r"\| `(\w+)` \| ([^|]+) \|", line)
        if m:
            deps = m.group(2).strip()
            table[m.group(1)] = set() if deps in ("—", "-") else {d.split(" ")[0] for d in re.split(r",\s*", deps)}
        elif table and not line.startswith("|"):
            break
    return table


class TargetLayers(unittest.TestCase):
    def test_readme_table_is_package_swift(self):
        self.assertEqual(readme_table(), package_targets())

    def test_sources_import_only_their_dependencies(self):
        wrong = []
        for target, deps in package_targets().items():
            folder = os.path.join(ROOT, "Sources", target)
            for directory, _, files in os.walk(folder):
                for name in files:
                    if not name.endswith(".swift"):
                        continue
                    path = os.path.join(directory, name)
                    for module in re.findall(r"^(?:@testable\s+)?import\s+(\w+)", open(path, encoding="utf-8").read(), re.M):
                        if module not in deps and module not in SYSTEM:
                            wrong.append(f"{os.path.relpath(path, ROOT)} imports {module}")
        self.assertEqual(wrong, [])

    def test_domain_imports_nothing_of_ours(self):
        self.assertEqual(package_targets()["BillingDomain"], set())


if __name__ == "__main__":
    unittest.main()
