"""Services hold no SQL (issue 14, item 2): every statement lives in a store under
Sources/BillingStorage/, and services call stores with domain values. A file under
Services/ that runs SQL itself, or builds a piece of it, fails this test.

ALLOWED lists the files whose SQL is still pending, each with its reason; shrink it as they
move (a listed file that no longer holds SQL fails too, so the list cannot go stale)."""

import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICES = os.path.join(ROOT, "Sources", "BillingEngine", "Services")

# Files whose SQL is still pending, by name, each with its reason. Empty: every service's SQL
# lives in a store (the verify services' moved to Storage/InvariantQueries*.swift, RowCoverage
# and AuditLog). Kept so that a pending move can be listed, and the list cannot go stale.
ALLOWED = {}

# Statements, clauses and connection calls. Keywords are matched in upper case only, the way
# the engine writes SQL; comments are stripped first, so a comment may still name a statement.
PATTERNS = [
    re.compile(r"\b(SELECT|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|VACUUM|PRAGMA|SAVEPOINT|"
               r"ON\s+CONFLICT|ORDER\s+BY|GROUP\s+BY|IS\s+(NOT\s+)?NULL)\b"),
    re.compile(r"\b\w+\s+(=|<=|>=|<|>|!=)\s+\?"),
    re.compile(r"\b\w+\s+(NOT\s+)?IN\s+\("),
    re.compile(r"\.(run|first|all|forEach|executeScript)\(\s*\"|\bDatabaseBindable\b|\bRow\b\s*[)\-,]|\blastInsertRowID\b"),
]


def strip_comments(text):
    """Drops // comments (outside string literals) and /* */ blocks, keeping line numbers."""
    text = re.sub(r"/\*.*?\*/", lambda match: "\n" * match.group(0).count("\n"), text, flags=re.S)
    lines = []
    for line in text.split("\n"):
        in_string = False
        cut = len(line)
        index = 0
        while index < len(line):
            char = line[index]
            if char == "\\" and in_string:
                index += 2
                continue
            if char == '"':
                in_string = not in_string
            elif not in_string and line.startswith("//", index):
                cut = index
                break
            index += 1
        lines.append(line[:cut])
    return lines


def sql_lines(path):
    with open(path, encoding="utf-8") as handle:
        lines = strip_comments(handle.read())
    return [(number, line.strip()) for number, line in enumerate(lines, 1)
            if any(pattern.search(line) for pattern in PATTERNS)]


class ServicesHoldNoSQLTests(unittest.TestCase):
    def test_no_service_holds_sql(self):
        offenders = []
        for name in sorted(os.listdir(SERVICES)):
            if name.endswith(".swift") and name not in ALLOWED:
                offenders += [f"Services/{name}:{number}: {line}" for number, line in sql_lines(os.path.join(SERVICES, name))]
        self.assertEqual(offenders, [], "SQL belongs in a store under Storage/:\n" + "\n".join(offenders))

    def test_allow_list_is_current(self):
        for name in ALLOWED:
            path = os.path.join(SERVICES, name)
            if os.path.exists(path):
                self.assertTrue(sql_lines(path), f"Services/{name} holds no SQL any more: remove it from ALLOWED")

    def test_patterns_catch_sql(self):
        samples = ['try db.run("DELETE FROM x WHERE id = ?", id)', 'conditions.append("expire_at >= ?")',
                   'let sql = "SELECT id FROM orders"', '"status IN (\'A\')"', 'var arguments: [DatabaseBindable] = []']
        for sample in samples:
            self.assertTrue(any(p.search(sample) for p in PATTERNS), sample)
        self.assertEqual(strip_comments('let a = 1 // SELECT x FROM y'), ["let a = 1 "])


if __name__ == "__main__":
    unittest.main()
