"""The engine reaches its database through the storage interface only (issue 14, item 3;
docs/storage-interface.md): outside the SQLite backend (BillingStorage/SQLite/) no file imports
SQLite or names the backend's types, except the few listed in BACKEND with their reason."""

import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCES = os.path.join(ROOT, "Sources")
# System-library shims (module maps and headers), not Swift.
SHIMS = ("CSQLite/", "CSodium/", "CBilling/")

# Files outside BillingStorage/SQLite/ that belong to the SQLite backend all the same.
BACKEND = {
    "BillingStorage/Database.swift": "the one place that picks the backend a path opens",
    "BillingStorage/SQLiteError.swift": "SQLite's result codes mapped to the engine's errors",
    "BillingStorage/SchemaFingerprint.swift": "SQLite's schema check (sqlite_schema), behind Connection.checkSchema",
}

PATTERN = re.compile(r"^\s*import\s+CSQLite\b|\bsqlite3_\w+|\bSQLITE_\w+|\bSQLite(Connection|Row|Statement)\b", re.M)


class StorageInterfaceTest(unittest.TestCase):
    def test_only_the_backend_names_sqlite(self):
        offenders = []
        for folder, _, files in os.walk(SOURCES):
            for name in files:
                if not name.endswith(".swift"):
                    continue
                path = os.path.join(folder, name)
                relative = os.path.relpath(path, SOURCES).replace(os.sep, "/")
                if relative.startswith("BillingStorage/SQLite/") or relative.startswith(SHIMS) or relative in BACKEND:
                    continue
                with open(path, encoding="utf-8") as handle:
                    # Comments may name the backend (where a contract comes from); code may not.
                    text = re.sub(r"//.*", "", handle.read())
                for match in PATTERN.finditer(text):
                    offenders.append(f"{relative}:{text.count(chr(10), 0, match.start()) + 1}: {match.group(0).strip()}")
        self.assertEqual(offenders, [], "SQLite named outside its backend:\n" + "\n".join(offenders))

    def test_the_backend_list_is_current(self):
        for relative in BACKEND:
            self.assertTrue(os.path.exists(os.path.join(SOURCES, relative)), relative)


if __name__ == "__main__":
    unittest.main()
