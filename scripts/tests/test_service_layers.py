"""Services form layers (issue 14, item 5): no service calls back into its caller.

Maps every declaration of the files under Sources/BillingEngine/Services/ (top-level types, and
the functions and static values of each top-level block: `extension Engine`, `enum Payments`,
…) to the file declaring it, finds which files use declarations of which other files, prints
that graph with its layers, and fails on any cycle, and on any use that goes up a layer
(a lower service using an operation's file or orchestration, orchestration using an
operation's file; see `kinds`). There is no allow-list: a cycle is broken by moving the
shared code down (into the lower service, the domain's rules or a store) or the composing code
up (into an orchestration file under Services/Orchestration/), never by listing it here.
docs/architecture.md describes the layers.

Run it alone to see the graph: `python3 scripts/tests/test_service_layers.py -v`.

What it reads is Swift without a compiler, so it is deliberately simple: comments and string
literals are dropped first; a call is `name(` (resolved in the block it sits in, then Engine's
members) or `Type.name` (resolved in that type's blocks); a bare reference to a type declared
in a service file is a use of that file. Overloads are told apart by their first argument
label. Methods called on values (`filter.page(…)`) are not followed: the value's type is
named where it is made, and that use is counted."""

import os
import re
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVICES = os.path.join(ROOT, "Sources", "BillingEngine", "Services")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_services_hold_no_sql import strip_comments  # noqa: E402

KEYWORDS = {"if", "guard", "for", "while", "switch", "return", "throw", "try", "catch", "init", "super", "self",
            "Self", "case", "let", "var", "func", "in", "where", "as", "is", "repeat", "defer", "do", "else"}
BLOCK = re.compile(r"^(?:(?:public|package|internal|private|fileprivate|final)\s+)*"
                   r"(extension|struct|enum|class|actor|protocol)\s+(\w+)")
MEMBER = re.compile(r"^(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|private|fileprivate|static|class|final|"
                    r"mutating|nonmutating|override|@discardableResult)\s+)*(func|let|var)\s+(\w+)\s*(?:<[^>]*>)?\s*(\()?([^)]*)")
QUALIFIED = re.compile(r"\b([A-Z]\w*)\s*\.\s*(\w+)\s*(\()?")


def code_lines(path):
    """The file's lines without comments and without the text of string literals (an
    interpolation's code is dropped with it: services keep calls out of messages)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    text = re.sub(r'"""(?:.|\n)*?"""', lambda m: '""' + "\n" * m.group(0).count("\n"), text)
    lines = strip_comments(text)
    return [re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', line) for line in lines]


def first_label(rest):
    """The first argument label of a declaration's parameter list or of a call's arguments."""
    match = re.match(r"\s*(\w+)\s*(\w+)?\s*:(?!:)", rest)
    if not match:
        return "_"
    return match.group(1)


def call_label(rest):
    match = re.match(r"\s*(\w+)\s*:(?!:)", rest)
    return match.group(1) if match else "_"


def service_files():
    files = []
    for folder, _, names in os.walk(SERVICES):
        for name in names:
            if name.endswith(".swift"):
                files.append(os.path.relpath(os.path.join(folder, name), SERVICES))
    return sorted(files)


def declarations(files):
    """(types, members): the file declaring each top-level type, and for each
    (block type, member name, first label) the files declaring it."""
    types, members = {}, {}
    for name in files:
        depth, block = 0, None
        for line in code_lines(os.path.join(SERVICES, name)):
            stripped = line.strip()
            if depth == 0:
                match = BLOCK.match(stripped)
                if match:
                    block = match.group(2)
                    if match.group(1) != "extension":
                        types.setdefault(block, name)
            elif depth == 1 and block:
                match = MEMBER.match(stripped)
                if match and match.group(2) not in KEYWORDS:
                    label = first_label(match.group(4)) if match.group(3) else None
                    members.setdefault((block, match.group(2), label), set()).add(name)
            depth += line.count("{") - line.count("}")
    return types, members


def kinds(files=None):
    """Each file's kind: "operation" when it declares public `Engine` methods (the entry points
    the C boundary calls), "orchestration" under Orchestration/, else "service" (a lower
    service: helpers the operations and orchestration call, no entry point)."""
    files = files if files is not None else service_files()
    result = {}
    for name in files:
        depth, block, public = 0, None, False
        for line in code_lines(os.path.join(SERVICES, name)):
            stripped = line.strip()
            if depth == 0:
                match = BLOCK.match(stripped)
                block = match.group(2) if match else block
            elif depth == 1 and block == "Engine" and re.match(r"public\s+(static\s+)?func\b", stripped):
                public = True
            depth += line.count("{") - line.count("}")
        result[name] = ("orchestration" if name.startswith("Orchestration" + os.sep) else
                        "operation" if public else "service")
    return result


# Which kind of file may use which: operations sit on top and may use any file below them
# (another operation's too, as long as no cycle forms: the scheduler runs other operations'
# jobs, lists reuse another list's filter); orchestration composes lower services and never
# reaches up into an operation; a lower service uses only lower services.
MAY_USE = {"operation": {"operation", "orchestration", "service"},
           "orchestration": {"orchestration", "service"},
           "service": {"service"}}


def upward_uses(edges, kind):
    """Uses that go up a layer: a lower service using an operation or orchestration, or
    orchestration using an operation."""
    return [f"  {source} ({kind[source]}) -> {target} ({kind[target]}): {', '.join(names)}"
            for source, targets in sorted(edges.items()) for target, names in sorted(targets.items())
            if kind[target] not in MAY_USE[kind[source]]]


def resolve(members, block, name, label):
    """The files declaring `block.name` with that first label (any label when the member is
    a value, or when only one overload exists)."""
    candidates = {key: files for key, files in members.items() if key[0] == block and key[1] == name}
    if not candidates:
        return set()
    exact = set().union(*(files for key, files in candidates.items() if key[2] in (label, None)))
    if exact:
        return exact
    return set().union(*candidates.values()) if len(candidates) == 1 else set()


def graph():
    """{file: {used file: sorted names used}} over the files under Services/."""
    files = service_files()
    types, members = declarations(files)
    edges = {name: {} for name in files}

    def use(source, target, what):
        if target != source:
            edges[source].setdefault(target, set()).add(what)

    for name in files:
        depth, block = 0, None
        for line in code_lines(os.path.join(SERVICES, name)):
            stripped = line.strip()
            if depth == 0:
                match = BLOCK.match(stripped)
                if match:
                    block = match.group(2)
            skip = MEMBER.match(stripped).group(2) if depth == 1 and MEMBER.match(stripped) else None
            consumed = set()
            for match in QUALIFIED.finditer(line):
                owner, member, paren = match.groups()
                label = call_label(line[match.end():]) if paren else None
                targets = resolve(members, owner, member, label) if owner in types or owner == "Engine" else set()
                if not targets and owner in types:
                    targets = {types[owner]}
                for target in targets:
                    use(name, target, f"{owner}.{member}")
                consumed.update((match.start(1), match.start(2)))
            for match in re.finditer(r"(?<![\w.])([A-Za-z_]\w*)\s*(\()?", line):
                word, paren = match.groups()
                if match.start(1) in consumed or word in KEYWORDS or word == skip:
                    continue
                if word in types:
                    use(name, types[word], word)
                    continue
                if not paren:
                    continue
                label = call_label(line[match.end():])
                targets = resolve(members, block, word, label) if block else set()
                if not targets and block != "Engine":
                    targets = resolve(members, "Engine", word, label) if block in (None, "Engine") else set()
                for target in targets:
                    use(name, target, word)
            depth += line.count("{") - line.count("}")
            if depth == 0:
                block = None if not BLOCK.match(stripped) or "}" in line else block
    return {source: {target: sorted(names) for target, names in targets.items()} for source, targets in edges.items()}


def cycles(edges):
    """Every strongly connected component of more than one file (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def layers(edges):
    """Each file's layer: 0 uses no other service file, n uses only files below n. None when
    the file sits on or above a cycle."""
    level = {}
    for _ in range(len(edges) + 1):
        for node, targets in edges.items():
            if node not in level and all(target in level for target in targets):
                level[node] = 1 + max((level[target] for target in targets), default=-1)
    return level


def describe(edges):
    level = layers(edges)
    kind = kinds(list(edges))
    out = []
    for node in sorted(edges, key=lambda n: (level.get(n, 99), n)):
        layer = level.get(node)
        out.append(f"[{'?' if layer is None else layer}] {node} ({kind[node]})")
        for target, names in sorted(edges[node].items()):
            out.append(f"      -> {target}: {', '.join(names)}")
    for component in cycles(edges):
        out.append("CYCLE: " + " <-> ".join(component))
    return "\n".join(out)


class ServiceLayersTests(unittest.TestCase):
    def test_services_have_no_cycle(self):
        edges = graph()
        print("\n" + describe(edges), file=sys.stderr)
        found = cycles(edges)
        detail = []
        for component in found:
            for source in component:
                for target, names in sorted(edges[source].items()):
                    if target in component:
                        detail.append(f"  {source} -> {target}: {', '.join(names)}")
        self.assertEqual(found, [], "services call back into their callers:\n" + "\n".join(detail))

    def test_no_use_goes_up_a_layer(self):
        edges = graph()
        found = upward_uses(edges, kinds(list(edges)))
        self.assertEqual(found, [], "lower services and orchestration call no operation file "
                                    "(and lower services no orchestration):\n" + "\n".join(found))

    def test_reader_finds_uses(self):
        """The reader sees the shapes the services use: qualified and bare calls, overloads
        by label, types, and nothing inside comments or strings."""
        import tempfile
        global SERVICES
        saved = SERVICES
        with tempfile.TemporaryDirectory() as folder:
            SERVICES = folder
            try:
                with open(os.path.join(folder, "A.swift"), "w") as handle:
                    handle.write("struct Plan {}\nenum Payments {\n    static func plan(_ x: Int) -> Plan { Plan() }\n}\n"
                                 "extension Engine {\n    static func ids(_ reader: Int) {}\n}\n")
                with open(os.path.join(folder, "B.swift"), "w") as handle:
                    handle.write("extension Engine {\n    static func ids(inDetail d: Int) {}\n"
                                 "    static func go() {\n        _ = Payments.plan(1) // C.other()\n"
                                 "        let s = \"other()\"\n        ids(inDetail: 1)\n    }\n}\n")
                with open(os.path.join(folder, "C.swift"), "w") as handle:
                    handle.write("extension Engine {\n    static func other() {\n        ids(reader)\n"
                                 "        let p: Plan? = nil\n    }\n}\n")
                edges = graph()
            finally:
                SERVICES = saved
        self.assertEqual(edges["B.swift"], {"A.swift": ["Payments.plan"]})
        self.assertEqual(edges["C.swift"], {"A.swift": ["Plan", "ids"]})
        self.assertEqual(edges["A.swift"], {})
        self.assertEqual(cycles({"a": {"b": []}, "b": {"a": []}, "c": {"a": []}}), [["a", "b"]])
        kind = {"Op.swift": "operation", "Orchestration/Flow.swift": "orchestration", "Low.swift": "service"}
        self.assertEqual(upward_uses({"Low.swift": {"Orchestration/Flow.swift": ["f"]}, "Op.swift": {"Low.swift": ["g"]},
                                      "Orchestration/Flow.swift": {"Op.swift": ["h"]}}, kind),
                         ["  Low.swift (service) -> Orchestration/Flow.swift (orchestration): f",
                          "  Orchestration/Flow.swift (orchestration) -> Op.swift (operation): h"])


if __name__ == "__main__":
    unittest.main()
