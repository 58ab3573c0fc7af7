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


def find(sources, name):
    """The one file of that name under the sources (the registry moves with its target)."""
    [path] = [os.path.join(d, name) for d, _, files in os.walk(sources) if name in files]
    return path


class CatalogueCheckTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="catalogue-test-")
        self.sources = os.path.join(self.tmp, "Sources")
        shutil.copytree(os.path.join(ROOT, "Sources"), self.sources)

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def run_catalogue(self, *args):
        """The script on the temporary sources; what it writes (the header's reason list, the
        Python module) goes to temporary copies, never to the checkout."""
        if not os.path.exists(os.path.join(self.tmp, "include")):
            os.makedirs(os.path.join(self.tmp, "include"))
            shutil.copy(os.path.join(ROOT, "include", "billing.h"), os.path.join(self.tmp, "include"))
            module = os.path.join(self.tmp, catalogue.PYTHON_MODULE)
            os.makedirs(os.path.dirname(module))
            shutil.copy(os.path.join(ROOT, catalogue.PYTHON_MODULE), module)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = catalogue.main(["--sources", self.sources, "--header", os.path.join(self.tmp, "include", "billing.h"),
                                   "--root", self.tmp, *args])
        return code, out.getvalue() + err.getvalue()

    def edit(self, relative, old, new):
        path = os.path.join(self.sources, relative) if "/" in relative else find(self.sources, relative)
        with open(path) as handle:
            text = handle.read()
        self.assertIn(old, text)
        with open(path, "w") as handle:
            handle.write(text.replace(old, new, 1))

    def declare(self, declaration):
        """Adds a declaration to the registry (Reasons.swift), after its last one."""
        path = find(self.sources, "Reasons.swift")
        with open(path) as handle:
            text = handle.read()
        end = text.rstrip().rindex("}")
        with open(path, "w") as handle:
            handle.write(text[:end] + "    " + declaration + "\n" + text[end:])

    def add_swift(self, body):
        with open(os.path.join(self.sources, "BillingEngine", "Services", "FakeForTest.swift"), "w") as handle:
            handle.write("extension Engine {\n    func fakeForTest(_ context: OperationContext) throws {\n"
                         + body + "\n    }\n}\n")

    def test_committed_catalogue_matches_the_sources(self):
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 0, output)

    def test_a_new_reason_fails_the_check_and_names_what_to_do(self):
        self.declare('static let fakeReasonForTest = Reason(.refused, "fake_reason_for_test", "A test reason.")')
        self.add_swift('        throw BillingError.refused(.fakeReasonForTest, "a reason nobody published")')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("reason fake_reason_for_test (status 4) is declared in BillingDomain/Values/Reasons.swift but missing", output)
        self.assertIn("python3 scripts/catalogue.py", output)

    def test_a_reason_thrown_through_the_constructor_is_found_with_its_function(self):
        self.declare('static let anotherFakeReason = Reason(.conflict, "another_fake_reason", "A test reason.")')
        with open(os.path.join(self.sources, "BillingEngine", "Services", "BalanceService.swift"), "a") as handle:
            handle.write('\nfunc fakeTopLevel() throws {\n    throw BillingError(\n        .anotherFakeReason, "x")\n}\n')
        scanner = catalogue.Scanner(self.sources, {})
        sites = [site for site in scanner.reason_sites if site[0] == "another_fake_reason"]
        self.assertEqual(len(sites), 1)
        self.assertEqual(sites[0][4].name, "fakeTopLevel")

    def test_every_declared_reason_is_thrown_or_retired(self):
        self.declare('static let unusedForTest = Reason(.refused, "unused_for_test", "A test reason.")')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("Reason.unusedForTest (unused_for_test) is declared but thrown nowhere", output)

    def test_a_retired_reason_is_published_as_retired_and_must_not_be_thrown(self):
        docs = os.path.join(self.tmp, "docs")
        shutil.copytree(os.path.join(ROOT, "docs"), docs)
        self.declare('static let oldForTest = Reason(.refused, "old_for_test", "A test reason.",\n'
                     '        retired: "replaced by a clearer reason in a test")')
        self.assertEqual(self.run_catalogue("--docs", docs)[0], 0)
        self.assertEqual(self.run_catalogue("--docs", docs, "--check")[0], 0)
        with open(os.path.join(docs, "catalogue.json")) as handle:
            [entry] = [r for r in json.load(handle)["reasons"] if r["reason"] == "old_for_test"]
        self.assertEqual(entry["retired"], "replaced by a clearer reason in a test")
        self.add_swift('        throw BillingError.refused(.oldForTest, "x")')
        code, output = self.run_catalogue("--docs", docs, "--check")
        self.assertEqual(code, 1)
        self.assertIn("Reason.oldForTest (old_for_test) is marked retired but still thrown", output)

    def test_a_helper_with_a_reason_of_another_status_is_reported(self):
        self.add_swift('        throw BillingError.refused(.missingField, "x")')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("BillingError.refused is for status .refused but Reason.missingField (missing_field) is declared .invalidArgument", output)

    def test_a_reason_declared_twice_is_reported(self):
        self.declare('static let twiceForTest = Reason(.refused, "account_frozen", "A test reason.")')
        self.add_swift('        throw BillingError.refused(.twiceForTest, "x")')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("the reason account_frozen is declared twice", output)

    def test_a_declaration_the_script_cannot_read_is_reported(self):
        self.declare('static let computedForTest = Reason(.refused, "computed_" + "for_test", "A test reason.")')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("cannot read the declaration of Reason.computedForTest", output)

    def test_throw_sites_name_declared_reasons_not_strings(self):
        """A raw string reason does not compile (BillingError takes a Reason, whose initializer is
        private to the registry); this keeps it so."""
        with open(find(os.path.join(ROOT, "Sources"), "BillingError.swift")) as handle:
            text = handle.read()
        self.assertNotRegex(text, r"(init|func \w+)\([^)]*reason: String")
        with open(find(os.path.join(ROOT, "Sources"), "Reasons.swift")) as handle:
            self.assertRegex(handle.read(), r"\bprivate init\(")

    def test_a_new_event_fails_the_check(self):
        self.add_swift('        try context.emit("fake.event_for_test", data: ["answer": .integer(42)])')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("event fake.event_for_test is in the sources but missing", output)

    def test_a_removed_reason_is_stale(self):
        self.edit("Reasons.swift", '"clock_not_manual"', '"clock_is_not_manual_for_test"')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("reason clock_not_manual (status 4) is in docs/catalogue.json but no longer declared", output)

    def test_an_interpolated_event_type_must_be_expanded_in_the_notes(self):
        self.add_swift('        let what = "fake"\n        try context.emit("\\(what).happened", data: [:])')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn('cannot read the event type from `"\\(what).happened"`', output)
        self.assertIn('"expansions"', output)

    def test_event_data_built_elsewhere_must_be_listed_in_the_notes(self):
        self.add_swift('        let payload = JSONValue.object([:])\n        try context.emit("fake.opaque_for_test", data: payload)')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("cannot read the data fields of fake.opaque_for_test", output)

    def test_event_data_written_directly_must_be_listed_in_the_notes(self):
        # An emit with `dataText:` (a direct writer's JSON text) has fields the script cannot
        # read: not an event without data, which would drop them from the catalogue.
        self.add_swift('        try context.emit("fake.written_for_test", account: nil, subject: nil, dataText: "{}")')
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("cannot read the data fields of fake.written_for_test", output)

    def test_regenerating_adds_an_empty_meaning_and_the_check_then_asks_for_it(self):
        docs = os.path.join(self.tmp, "docs")
        shutil.copytree(os.path.join(ROOT, "docs"), docs)
        self.declare('static let fakeReasonForTest = Reason(.refused, "fake_reason_for_test", "")')
        self.add_swift('        try context.emit("fake.event_for_test", data: ["answer": .integer(42)])\n'
                       '        throw BillingError.refused(.fakeReasonForTest, "x")')
        code, output = self.run_catalogue("--docs", docs)
        self.assertEqual(code, 0, output)
        with open(os.path.join(docs, "catalogue-notes.json")) as handle:
            notes = json.load(handle)
        self.assertEqual(notes["events"]["fake.event_for_test"], {"meaning": ""})
        code, output = self.run_catalogue("--docs", docs, "--check")
        self.assertEqual(code, 1)
        self.assertIn("reason fake_reason_for_test has no meaning: write one in its declaration in BillingDomain/Values/Reasons.swift", output)
        self.assertIn("event fake.event_for_test has no meaning", output)
        self.assertNotIn("missing from docs/catalogue.json", output)
        self.edit("Reasons.swift", '"fake_reason_for_test", ""', '"fake_reason_for_test", "A test reason."')
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
        # The header's list and the Python module follow the registry.
        with open(os.path.join(self.tmp, "include", "billing.h")) as handle:
            self.assertIn(" fake_reason_for_test", handle.read())
        with open(os.path.join(self.tmp, catalogue.PYTHON_MODULE)) as handle:
            module = handle.read()
        self.assertIn('FAKE_REASON_FOR_TEST = "fake_reason_for_test"', module)
        self.assertIn('"A test reason."', module)

    def test_a_stale_header_list_or_python_module_fails_the_check(self):
        self.run_catalogue("--check")  # makes the temporary copies
        header = os.path.join(self.tmp, "include", "billing.h")
        with open(header) as handle:
            text = handle.read()
        with open(header, "w") as handle:
            handle.write(text.replace(" account_frozen", "", 1))
        module = os.path.join(self.tmp, catalogue.PYTHON_MODULE)
        with open(module, "a") as handle:
            handle.write("EXTRA = 1\n")
        code, output = self.run_catalogue("--check")
        self.assertEqual(code, 1)
        self.assertIn("billing.h: its reason list is not the registry's", output)
        self.assertIn("reasons.py is not the registry's", output)

    def test_the_python_module_lists_every_published_reason(self):
        namespace = {}
        with open(os.path.join(ROOT, catalogue.PYTHON_MODULE)) as handle:
            exec(compile(handle.read(), catalogue.PYTHON_MODULE, "exec"), namespace)
        with open(os.path.join(ROOT, "docs", "catalogue.json")) as handle:
            published = json.load(handle)["reasons"]
        self.assertEqual(set(namespace["REASONS"]), {r["reason"] for r in published})
        for r in published:
            self.assertEqual(namespace[r["reason"].upper()], r["reason"])
            self.assertEqual(namespace["REASONS"][r["reason"]].status, r["status"])
            self.assertEqual(namespace["REASONS"][r["reason"]].meaning, r["meaning"])

    def test_header_and_swift_status_codes_agree(self):
        macros = catalogue.header_statuses(os.path.join(ROOT, "include", "billing.h"))
        scanner = catalogue.Scanner(self.sources, {})
        for name, code in scanner.statuses.items():
            self.assertIn(code, macros, name)


if __name__ == "__main__":
    unittest.main()
