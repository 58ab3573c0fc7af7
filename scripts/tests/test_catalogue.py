"""Tests of scripts/catalogue.py itself: the check must fail when the sources gain a reason or
an event the committed catalogue does not have, lose one it has, or build one it cannot read.
Each test runs the checker on a temporary copy of Sources/ (standard library only)."""

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in scripts/
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import catalogue  # noqa: E402


class CatalogueCheckTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="catalogue-test-")
        self.sources = os.path.join(self.tmp, "Sources")
        shutil.copytree(os.path.join(ROOT, "Sources"), self.sources)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_catalogue(self, *args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = catalogue.main(["--sources", self.sources, *args])
        return code, out.getvalue() + err.getvalue()

    def add_swift(self, body):
        with open(os.path.join(self.sources, "BillingEngine", "Services", "FakeForTest.swift"), "w") as handle:
            handle.write("extension Engine {\n    func fakeForTest(_ context: OperationContext) throws {\n"
                         + body + "\n    }\n}\n")

    def test_committed_catalogue_matches_the_sources(self):
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 0, output)

    def test_a_new_reason_fails_the_check_and_names_what_to_do(self):
        self.add_swift('        throw BillingError.refused("fake_reason_for_test", "a reason nobody documented")')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("reason fake_reason_for_test (status 4) is in the sources but missing", output)
        self.assertIn('"reasons" -> "fake_reason_for_test" -> "meaning"', output)
        self.assertIn("python3 scripts/catalogue.py", output)

    def test_a_new_reason_in_an_existing_file_through_a_constructor_fails_the_check(self):
        path = os.path.join(self.sources, "BillingEngine", "Services", "BalanceService.swift")
        with open(path) as handle:
            text = handle.read()
        with open(path, "w") as handle:
            handle.write(text + '\nfunc fakeTopLevel() throws {\n    throw BillingError(.conflict,\n        "another_fake_reason", "x")\n}\n')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("reason another_fake_reason (status 3) is in the sources but missing", output)

    def test_a_new_helper_in_billing_error_is_understood(self):
        path = os.path.join(self.sources, "BillingDomain", "Values", "BillingError.swift")
        with open(path) as handle:
            text = handle.read()
        helper = ('    public static func busyFor(_ what: String, _ message: String) -> BillingError {\n'
                  '        BillingError(.busy, "\\(what)_is_busy", message)\n    }\n')
        with open(path, "w") as handle:
            handle.write(text.replace("    /// Arithmetic that left", helper + "    /// Arithmetic that left", 1))
        self.add_swift('        throw BillingError.busyFor("fake_thing", "x")')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("reason fake_thing_is_busy (status 6) is in the sources but missing", output)

    def test_an_unknown_helper_is_reported(self):
        self.add_swift('        throw BillingError.mystery("fake_reason_for_test")')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("BillingError.mystery(...) is not a helper scripts/catalogue.py understands", output)

    def test_a_new_event_fails_the_check(self):
        self.add_swift('        try context.emit("fake.event_for_test", data: ["answer": .integer(42)])')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("event fake.event_for_test is in the sources but missing", output)

    def test_a_removed_reason_is_stale(self):
        path = os.path.join(self.sources, "BillingEngine", "Engine.swift")
        with open(path) as handle:
            text = handle.read()
        self.assertIn('"clock_not_manual"', text)
        with open(path, "w") as handle:
            handle.write(text.replace('"clock_not_manual"', '"clock_is_not_manual_for_test"'))
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("reason clock_not_manual (status 4) is in docs/catalogue.json but no longer in the sources (stale)", output)

    def test_an_interpolated_reason_must_be_expanded_in_the_notes(self):
        self.add_swift('        let what = "fake"\n        throw BillingError.invalid("\\(what)_is_bad", "x")')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn('cannot read the reason from `"\\(what)_is_bad"`', output)
        self.assertIn('"expansions"', output)

    def test_event_data_built_elsewhere_must_be_listed_in_the_notes(self):
        self.add_swift('        let payload = JSONValue.object([:])\n        try context.emit("fake.opaque_for_test", data: payload)')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("cannot read the data fields of fake.opaque_for_test", output)

    def test_regenerating_adds_an_empty_meaning_and_the_check_then_asks_for_it(self):
        docs = os.path.join(self.tmp, "docs")
        shutil.copytree(os.path.join(ROOT, "docs"), docs)
        self.add_swift('        try context.emit("fake.event_for_test", data: ["answer": .integer(42)])\n'
                       '        throw BillingError.refused("fake_reason_for_test", "x")')
        code, output = self.run_catalogue("--docs", docs)
        self.assertEqual(code, 0, output)
        with open(os.path.join(docs, "catalogue-notes.json")) as handle:
            notes = json.load(handle)
        self.assertEqual(notes["reasons"]["fake_reason_for_test"], {"meaning": ""})
        self.assertEqual(notes["events"]["fake.event_for_test"], {"meaning": ""})
        code, output = self.run_catalogue("--docs", docs, "--check")
        self.assertEqual(code, 1)
        self.assertIn("reason fake_reason_for_test has no meaning", output)
        self.assertNotIn("missing from docs/catalogue.json", output)
        notes["reasons"]["fake_reason_for_test"]["meaning"] = "A test reason."
        notes["events"]["fake.event_for_test"]["meaning"] = "A test event."
        with open(os.path.join(docs, "catalogue-notes.json"), "w") as handle:
            json.dump(notes, handle)
        self.assertEqual(self.run_catalogue("--docs", docs)[0], 0)
        code, output = self.run_catalogue("--docs", docs, "--check")
        self.assertEqual(code, 0, output)
        with open(os.path.join(docs, "catalogue.json")) as handle:
            fresh = json.load(handle)
        event = next(e for e in fresh["events"] if e["type"] == "fake.event_for_test")
        self.assertEqual(event["data"], ["answer"])

    def test_header_and_swift_status_codes_agree(self):
        macros = catalogue.header_statuses(os.path.join(ROOT, "include", "billing.h"))
        scanner = catalogue.Scanner(self.sources, {})
        for name, code in scanner.statuses.items():
            self.assertIn(code, macros, name)


if __name__ == "__main__":
    unittest.main()
