"""Every operation reads its request once into a named request type and answers with a
response type (issue 14, item 6): under Sources/BillingEngine/Services/, a call of the
operation runner (`perform`, `query`, `rehearse`) must pass `parse: SomethingRequest.init` (or
a parse closure that builds one, when it must do more before the lock, such as hashing a
password); the runner accepts only a `ResponseDocument` (a bare `JSONValue` is not one), so the
compiler refuses an untyped answer, and a closure that names its result must name a response
type. An operation outside the runner (login, backup) reads its request through a
request type and renders its answer with `Engine.document(SomethingResponse(...).json)`.

PENDING lists files whose operations are still being converted (none now; a listed file that
has nothing left fails, so the list cannot go stale). Run this file with `--list` to print
what remains, operation by operation."""

import os
import re
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICES = os.path.join(ROOT, "Sources", "BillingEngine", "Services")
# The runner itself: it defines the overloads and renders documents.
RUNNER = "Engine+Operations.swift"

# Files whose operations are still being converted (none: every operation is typed).
PENDING: set = set()

# A call of the runner: `perform("name", …`, `query(requestJSON, …`, `rehearse(…`.
CALL = re.compile(r"\b(perform|query|rehearse)\((\"[\w.]+\"|operation|requestJSON|nil)\s*,")
# The closure the runner applies: `{ context, input -> Type in` (trailing or `apply:`/`run:`).
CLOSURE = re.compile(r"\{\s*(\w+|_)\s*,\s*(\w+|_)\s*(->\s*([\w.]+))?\s*in\b")
PARSE_INIT = re.compile(r"parse:\s*([\w.]+)\.init\b")
PARSE_CLOSURE = re.compile(r"parse:\s*\{")
REQUEST_BUILT = re.compile(r"\b\w+Request\(")
DOCUMENT = re.compile(r"Engine\.document\(")
READER = re.compile(r"ObjectReader\(text:")


def strip_comments(text):
    """Drops // line comments and /* */ blocks, keeping line numbers."""
    text = re.sub(r"/\*.*?\*/", lambda match: "\n" * match.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def line_of(text, index):
    return text.count("\n", 0, index) + 1


def untyped_operations(path):
    """The places in one service file that still read or answer bare JSON, as (line, what)."""
    with open(path, encoding="utf-8") as handle:
        text = strip_comments(handle.read())
    found = []
    for call in CALL.finditer(text):
        closure = None
        # The closure header follows the parse argument; a parse closure has its own `in`.
        parse_at = text.find("parse:", call.end())
        if parse_at < 0 or parse_at - call.end() > 200:
            found.append((line_of(text, call.start()), f"{call.group(1)} without a parse: argument"))
            continue
        parse = PARSE_INIT.match(text, parse_at)
        if parse:
            if not parse.group(1).endswith("Request"):
                found.append((line_of(text, call.start()), f"parse: {parse.group(1)}.init is not a request type"))
            search_from = parse.end()
        elif re.match(r"parse:\s*parse\b", text[parse_at:]):
            # A generic helper forwarding its own `parse:`, typed to build a request type
            # (`OrderLifecycleService.decide`); its callers pass `XRequest.init`.
            search_from = parse_at + len("parse:")
        elif PARSE_CLOSURE.match(text, parse_at):
            # The parse closure ends where the apply closure starts: `}) {` or `}, apply: {`.
            end = re.compile(r"\}\s*(\)\s*\{|,\s*(apply|run):\s*\{)").search(text, parse_at)
            body = text[parse_at:end.start() if end else len(text)]
            if not REQUEST_BUILT.search(body):
                found.append((line_of(text, call.start()), "parse closure reads fields itself (no request type)"))
            search_from = end.start() + 1 if end else parse_at
        else:
            found.append((line_of(text, call.start()), "parse: is neither a request type nor a closure"))
            continue
        # The runner accepts only a ResponseDocument (JSONValue is not one), so the compiler
        # already refuses a bare tree; a closure that names its answer must name a response type.
        closure = CLOSURE.search(text, search_from)
        if closure and closure.group(4) and not closure.group(4).endswith("Response"):
            found.append((line_of(text, call.start()), f"{call.group(1)} answers {closure.group(4)}, not a response type"))
    for document in DOCUMENT.finditer(text):
        if not re.match(r"Engine\.document\(\s*\w+Response\(", text[document.start():]):
            found.append((line_of(text, document.start()), "Engine.document of a bare tree (render a response type)"))
    for reader in READER.finditer(text):
        following = text[reader.end():reader.end() + 300]
        if not REQUEST_BUILT.search(following):
            found.append((line_of(text, reader.start()), "a request read field by field (read it into a request type)"))
    return found


def service_files():
    return sorted(name for name in os.listdir(SERVICES) if name.endswith(".swift") and name != RUNNER)


def remaining():
    """Every untyped place in every service file, pending or not."""
    return {name: untyped_operations(os.path.join(SERVICES, name)) for name in service_files()}


class OperationsAreTypedTests(unittest.TestCase):
    def test_operations_are_typed(self):
        offenders = [f"Services/{name}:{line}: {what}" for name, places in remaining().items() if name not in PENDING
                     for line, what in places]
        self.assertEqual(offenders, [], "read requests into a request type and answer a response type:\n" + "\n".join(offenders))

    def test_pending_list_is_current(self):
        for name in sorted(PENDING):
            path = os.path.join(SERVICES, name)
            if os.path.exists(path):
                self.assertTrue(untyped_operations(path), f"Services/{name} is typed: remove it from PENDING")

    def test_patterns_catch_untyped_operations(self):
        import tempfile
        samples = {
            'try query(requestJSON, parse: { try $0.string("id") }) { context, id in\n ["a": .null]\n}': 1,
            # A bare tree cannot compile any more (the runner takes only a ResponseDocument).
            'try perform("x.y", requestJSON, parse: XRequest.init) { context, input in\n return ["a": .null]\n}': 0,
            'try perform("x.y", requestJSON, parse: XRequest.init) { context, input -> XResponse in\n XResponse()\n}': 0,
            'try query(nil, parse: EmptyRequest.init) { context, _ -> JSONValue in [:] }': 1,
            'try perform(operation, requestJSON, parse: { reader in\n let r = try SetRequest(reader)\n'
            ' return r\n }) { context, input -> PlatformResponse in\n PlatformResponse()\n }': 0,
            'let reader = try ObjectReader(text: requestJSON)\nlet x = try reader.string("x")\n': 1,
            'return Engine.document(["a": .null])': 1,
            'return Engine.document(AResponse(a: 1).json)': 0,
        }
        for sample, expected in samples.items():
            with tempfile.NamedTemporaryFile("w", suffix=".swift", delete=False) as handle:
                handle.write(sample)
            try:
                self.assertEqual(bool(untyped_operations(handle.name)), bool(expected), sample)
            finally:
                os.unlink(handle.name)


if __name__ == "__main__":
    if "--list" in sys.argv:
        for name, places in remaining().items():
            for line, what in places:
                print(f"Services/{name}:{line}: {what}" + ("  (pending)" if name in PENDING else ""))
        sys.exit(0)
    unittest.main()
