#!/usr/bin/env python3
"""The catalogue of error reasons and event types, generated from the Swift sources.

    python3 scripts/catalogue.py            # regenerate docs/catalogue.*, the header's reason list
                                            # and examples/python/billing/reasons.py
    python3 scripts/catalogue.py --check    # fail if any of them is out of date

What it reads (standard library only):
  - Sources/BillingDomain/Values/Reasons.swift, the registry: every reason declared once as
    `static let name = Reason(.status, "reason", "meaning"[, retired: "why"])`, grouped under
    `// MARK:` areas. Throw sites name a declared reason (a raw string does not compile);
    this script finds where each is used (`.name` in a `BillingError(…)`, `.invalid/refused/
    notFound(…)`, `Reason.name` anywhere; `BillingError.overflow(…)` -> amount_out_of_range) and
    checks that every declared reason is thrown somewhere or marked retired, that a retired one
    is thrown nowhere, and that `.invalid/.refused/.notFound` get a reason of their status;
  - Sources/**/*.swift: every emitted event (`emit("type", …, data: …)`,
    `EventLog.append(…, type: "type", …)`) with the keys of its `data` dictionary;
  - include/billing.h: the BILLING_OK / BILLING_E_* status codes (checked against
    BillingError.Status);
  - docs/catalogue-notes.json, kept by hand: the one-line meaning of every event, the values of
    event types the script cannot read from a string literal ("expansions"), the `data` fields
    of events whose dictionary is built elsewhere, and extra C functions to name.

What it writes from the registry: docs/catalogue.json and docs/catalogue.md (reasons with
status, meaning, area, the C functions that may return them and where they are thrown), the
reason list of include/billing.h (between its "Reasons" markers) and the Python binding's
`billing.reasons` module (a constant per reason and REASONS with status and meaning).

Which C functions can return a reason or emit an event is derived from a name-based call graph
of the sources, rooted at the `billing_*` exports of Sources/CBillingAPI: it over-approximates
(a function is named when a path of calls *may* reach the throw site), never under-approximates
a direct path.

Regenerating also adds an empty stub to the notes file for every new event, so that the only
thing left to do is to write its meaning there and regenerate once more.
"""

import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGENERATE = "python3 scripts/catalogue.py"

# --------------------------------------------------------------------------------------------
# Lexing: blank comments and string contents so that regexes and brace matching see only code,
# and remember every string literal (its span and its raw text).
# --------------------------------------------------------------------------------------------


class Source:
    def __init__(self, path, rel, text):
        self.path = path
        self.rel = rel
        self.text = text
        self.strings = []  # (start, end, content, interpolated); start = opening quote
        self.code = self._mask(text)
        self._lines = [0]
        for index, char in enumerate(text):
            if char == "\n":
                self._lines.append(index + 1)

    def line(self, position):
        low, high = 0, len(self._lines) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self._lines[middle] <= position:
                low = middle
            else:
                high = middle - 1
        return low + 1

    def _mask(self, text):
        out = list(text)
        n = len(text)

        def blank(start, end):
            for k in range(start, end):
                if out[k] != "\n":
                    out[k] = " "

        def skip_string(i):
            """i at the opening quote; returns the index after the closing quote."""
            triple = text.startswith('"""', i)
            quote = '"""' if triple else '"'
            j = i + len(quote)
            interpolated = False
            while j < n:
                if text[j] == "\\":
                    if j + 1 < n and text[j + 1] == "(":
                        interpolated = True
                        j = skip_code(j + 2, ")")
                        continue
                    j += 2
                    continue
                if text.startswith(quote, j):
                    self.strings.append((i, j + len(quote), text[i + len(quote):j], interpolated))
                    blank(i + len(quote), j)
                    return j + len(quote)
                if not triple and text[j] == "\n":
                    break  # unterminated: stop at the line's end
                j += 1
            self.strings.append((i, j, text[i + len(quote):j], interpolated))
            blank(i + len(quote), j)
            return j

        def skip_code(i, closer):
            """Code inside an interpolation; returns the index after the matching closer."""
            depth = 0
            while i < n:
                c = text[i]
                if c == '"':
                    i = skip_string(i)
                    continue
                if c == "(":
                    depth += 1
                elif c == ")":
                    if depth == 0:
                        return i + 1
                    depth -= 1
                i += 1
            return i

        i = 0
        while i < n:
            c = text[i]
            if text.startswith("//", i):
                end = text.find("\n", i)
                end = n if end < 0 else end
                blank(i, end)
                i = end
            elif text.startswith("/*", i):
                depth, j = 1, i + 2
                while j < n and depth:
                    if text.startswith("/*", j):
                        depth, j = depth + 1, j + 2
                    elif text.startswith("*/", j):
                        depth, j = depth - 1, j + 2
                    else:
                        j += 1
                blank(i, j)
                i = j
            elif c == '"':
                i = skip_string(i)
            else:
                i += 1
        return "".join(out)

    def literals(self, start, end):
        """The string literals inside code[start:end], in order."""
        return [s for s in self.strings if start <= s[0] < end]


OPEN = {"(": ")", "[": "]", "{": "}"}


def matching(code, i):
    """code[i] is an opening bracket; returns the index of its match (or len(code))."""
    stack = []
    for j in range(i, len(code)):
        c = code[j]
        if c in OPEN:
            stack.append(OPEN[c])
        elif c in ")]}":
            if stack and stack[-1] == c:
                stack.pop()
                if not stack:
                    return j
    return len(code)


def split_arguments(code, start, end):
    """Top-level comma-separated spans of code[start:end] (the inside of a call's parens)."""
    parts, depth, begin = [], 0, start
    for j in range(start, end):
        c = code[j]
        if c in OPEN:
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append((begin, j))
            begin = j + 1
    if code[begin:end].strip():
        parts.append((begin, end))
    return parts


def label_of(code, span):
    match = re.match(r"\s*([A-Za-z_]\w*)\s*:(?!:)", code[span[0]:span[1]])
    return (match.group(1), span[0] + match.end()) if match else (None, span[0])


# --------------------------------------------------------------------------------------------
# Declarations and the call graph
# --------------------------------------------------------------------------------------------


class Function:
    def __init__(self, source, name, owner, static, start, body_start, body_end):
        self.source = source
        self.name = name
        self.owner = owner
        self.static = static
        self.start = start
        self.body_start = body_start
        self.body_end = body_end
        self.callees = set()

    @property
    def label(self):
        return f"{self.owner}.{self.name}" if self.owner else self.name


TYPE_DECL = re.compile(r"\b(?:struct|class|enum|extension|actor|protocol)\s+([A-Z]\w*)[^{;]*\{")
FUNC_DECL = re.compile(r"\b((?:[a-z@]\w*\s+)*)func\s+([A-Za-z_]\w*)|\binit\b\??")
PROPERTY_DECL = re.compile(r"\b(static\s+)?(?:let|var)\s+([A-Za-z_]\w*)")


def declarations(source):
    code = source.code
    owners = []  # (start, end, name)
    for m in TYPE_DECL.finditer(code):
        brace = m.end() - 1
        owners.append((brace, matching(code, brace), m.group(1)))

    def owner_at(position):
        best = None
        for start, end, name in owners:
            if start <= position <= end and (best is None or start > best[0]):
                best = (start, name)
        return best[1] if best else None

    functions = []
    for m in FUNC_DECL.finditer(code):
        name = m.group(2) or "init"
        if name == "init" and code[:m.start()].rstrip().endswith("."):
            continue  # `.init(…)`: a call, not a declaration
        j = m.end()
        generic = re.match(r"\s*<", code[j:])
        if generic:
            j = code.index("<", j)
            depth = 0
            while j < len(code):
                depth += {"<": 1, ">": -1}.get(code[j], 0)
                j += 1
                if depth == 0:
                    break
        paren = code.find("(", j)
        if paren < 0:
            continue
        close = matching(code, paren)
        brace = code.find("{", close)
        if brace < 0 or "}" in code[close:brace] or re.search(r"\bfunc\b|\n\s*\n", code[close:brace]):
            continue  # a protocol requirement or a declaration without a body
        if name == "init" and not re.fullmatch(r"(\s|throws|rethrows|async)*", code[close + 1:brace]):
            continue  # `init(…)` inside an expression
        static = bool(re.search(r"\b(static|class)\b", m.group(1) or ""))
        functions.append(Function(source, name, owner_at(m.start()), static, m.start(), brace, matching(code, brace)))
    return functions, owner_at


def innermost(functions, position):
    best = None
    for f in functions:
        if f.body_start <= position <= f.body_end and (best is None or f.body_start > best.body_start):
            best = f
    return best


def build_graph(functions, properties):
    by_name = {}
    for f in functions + properties:
        by_name.setdefault(f.name, []).append(f)
    for f in functions + properties:
        code = f.source.code
        body = code[f.body_start:f.body_end]
        for m in re.finditer(r"\b([A-Za-z_]\w*)\b(\s*[({])?", body):
            name = m.group(1)
            if name[0].isupper() and m.group(2) and m.group(2).strip() == "(":
                # `Type(…)`: the type's initializers
                f.callees.update(t for t in by_name.get("init", []) if t.owner == name and t is not f)
                continue
            targets = by_name.get(name)
            if not targets:
                continue
            before = body[max(0, m.start() - 120):m.start()].rstrip()
            dotted = before.endswith(".")
            qualifier = ""
            if dotted:
                q = re.search(r"([A-Za-z_]\w*|[)\]?!])\s*$", before[:-1])
                qualifier = q.group(1) if q else ""
            called = bool(m.group(2))
            if name == "init":
                # `self.init(…)` / `Self.init(…)` / `Type.init(…)`: that type's initializers
                owner = f.owner if qualifier in ("self", "Self", "super") else qualifier
                f.callees.update(t for t in targets if t.owner == owner and t is not f)
                continue
            chosen = []
            for t in targets:
                if t is f:
                    continue
                if isinstance(t, Property):
                    if t.owner == f.owner or qualifier in (t.owner, "Self"):
                        chosen.append(t)
                    continue
                if not called:
                    continue
                if dotted:
                    if qualifier and qualifier[0].isupper() and qualifier != "Self":
                        if t.owner == qualifier:
                            chosen.append(t)
                    elif qualifier == "Self" or not qualifier:
                        # `.name(` (implicit member) or `Self.name(`: a static member
                        if t.static or t.name == "init":
                            chosen.append(t)
                    elif not t.static:
                        chosen.append(t)  # an instance call: any non-static method of that name
                else:
                    if t.owner == f.owner or t.owner is None:
                        chosen.append(t)
            f.callees.update(chosen)


class Property(Function):
    """A stored property whose initializer builds an error (e.g. `static let notManual = …`)."""


def reachable_from(roots):
    """For each function, the set of root labels (C exports) that may reach it."""
    reached = {}
    for root in roots:
        stack, seen = [root], {root}
        while stack:
            f = stack.pop()
            reached.setdefault(f, set()).add(root.name)
            for g in f.callees:
                if g not in seen:
                    seen.add(g)
                    stack.append(g)
    return reached


# --------------------------------------------------------------------------------------------
# Finding reasons and events
# --------------------------------------------------------------------------------------------

REGISTRY_FILE = "BillingDomain/Values/Reasons.swift"  # for messages; found by its name wherever the targets put it


def is_registry(source):
    return source.rel.rsplit("/", 1)[-1] == "Reasons.swift"


def is_error_file(source):
    return source.rel.rsplit("/", 1)[-1] == "BillingError.swift"


class Declared:
    """One reason of the registry: `static let ident = Reason(.status, "reason", "meaning")`."""

    def __init__(self, ident, reason, status, meaning, retired, area, source, position):
        self.ident = ident
        self.reason = reason
        self.status = status
        self.meaning = meaning
        self.retired = retired
        self.area = area
        self.source = source
        self.position = position


def unescape(literal):
    """The value of a Swift string literal's content (the escapes the registry uses)."""
    return re.sub(r'\\(["\\nt])', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), literal)


STATUS_CASE = re.compile(r"case\s+`?(\w+)`?\s*=\s*(\d+)")
class Problem(Exception):
    pass


class Scanner:
    def __init__(self, sources_dir, notes):
        self.notes = notes
        self.sources = []
        for directory, _, files in sorted(os.walk(sources_dir)):
            for name in sorted(files):
                if name.endswith(".swift"):
                    path = os.path.join(directory, name)
                    rel = os.path.relpath(path, sources_dir)
                    with open(path, encoding="utf-8") as handle:
                        self.sources.append(Source(path, "Sources/" + rel.replace(os.sep, "/"), handle.read()))
        self.functions = []
        self.owner_at = {}
        for s in self.sources:
            fs, owner_at = declarations(s)
            self.functions += fs
            self.owner_at[s] = owner_at
        self.properties = []
        self.problems = []
        self.statuses = self._statuses()
        self.reason_sites = []  # (reason, status name, source, position, function)
        self.event_sites = []   # (type, fields or None, source, position, function)
        self.registry = self._registry()
        self.by_reason = {d.reason: d for d in self.registry.values()}
        self.other_members = set()
        for s in self.sources:
            if not is_registry(s):
                self.other_members |= set(re.findall(r"\b(?:case|let|var|func)\s+`?(\w+)", s.code))
                for m in re.finditer(r"\bcase\s+([^\n:]*)", s.code):
                    self.other_members |= set(re.findall(r"\b(\w+)\b", m.group(1)))
        for s in self.sources:
            if is_registry(s):
                continue
            if not is_error_file(s):
                self._scan_reasons(s)
            self._scan_events(s)
        build_graph(self.functions, self.properties)
        roots = [f for f in self.functions if f.name.startswith("billing_") and "CBillingAPI" in f.source.rel]
        self.exports = sorted(f.name for f in roots)
        self.reached = reachable_from(roots)

    # -- statuses --------------------------------------------------------------------------

    def _statuses(self):
        for s in self.sources:
            if is_error_file(s):
                m = re.search(r"enum\s+Status\b[^{]*\{", s.code)
                if m:
                    body = s.code[m.end():matching(s.code, m.end() - 1)]
                    return {name: int(code) for name, code in STATUS_CASE.findall(body)}
        raise SystemExit("catalogue.py: BillingError.Status not found under the sources")

    # -- helpers ---------------------------------------------------------------------------

    def where(self, s, position):
        return f"{s.rel}:{s.line(position)}"

    def enclosing(self, s, position):
        f = innermost([g for g in self.functions if g.source is s], position)
        if f:
            return f
        # A stored property's initializer (e.g. `private static let notManual = BillingError…`)
        decl = None
        for m in PROPERTY_DECL.finditer(s.code, 0, position):
            decl = m
        if decl is None:
            return None
        line_end = s.code.find("\n", position)
        p = Property(s, decl.group(2), self.owner_at[s](decl.start()), bool(decl.group(1)),
                     decl.start(), decl.start(), line_end if line_end >= 0 else len(s.code))
        self.properties.append(p)
        return p

    def values(self, s, span, kind, function):
        """The string values an argument can take: literals (both arms of a ternary), a local
        `let` holding literals, or the notes' expansions keyed by the argument's text."""
        text = s.text[span[0]:span[1]].strip()
        expansions = self.notes.get("expansions", {})
        if text in expansions:
            return list(expansions[text])
        literals = s.literals(*span)
        if literals and not any(lit[3] for lit in literals):
            return [lit[2] for lit in literals]
        ident = re.fullmatch(r"[A-Za-z_]\w*", text)
        if ident and function is not None:
            body = s.code[function.body_start:span[0]]
            defs = list(re.finditer(r"\b(?:let|var)\s+" + text + r"\b[^=\n]*=([^\n]*)", body))
            if defs:
                m = defs[-1]
                start = function.body_start + m.start(1)
                lits = s.literals(start, function.body_start + m.end(1))
                if lits and not any(lit[3] for lit in lits):
                    return [lit[2] for lit in lits]
        self.problems.append(
            f"{self.where(s, span[0])}: cannot read the {kind} from `{text}`; add "
            f"{json.dumps(text)}: [its possible values] under \"expansions\" in docs/catalogue-notes.json")
        return []

    # -- reasons ---------------------------------------------------------------------------

    def _registry(self):
        """The reasons declared in the registry (Reasons.swift), in order: identifier -> Declared."""
        registry = {}
        for s in self.sources:
            if not is_registry(s):
                continue
            self.registry_source = s
            area = ""
            marks = [(m.start(), m.group(1).strip()) for m in re.finditer(r"//\s*MARK:\s*([^\n]*)", s.text)]
            for m in re.finditer(r"\bstatic\s+let\s+(\w+)\s*=\s*Reason\s*\(", s.code):
                paren = m.end() - 1
                close = matching(s.code, paren)
                args = split_arguments(s.code, paren + 1, close)
                sm = re.fullmatch(r"\s*\.`?(\w+)`?\s*", s.code[args[0][0]:args[0][1]]) if args else None
                texts = []
                for span in args[1:]:
                    label, _ = label_of(s.code, span)
                    lits = s.literals(*span)
                    if len(lits) != 1 or lits[0][3]:
                        texts = None
                        break
                    texts.append((label, unescape(lits[0][2])))
                where = self.where(s, m.start())
                if not sm or texts is None or len(texts) < 2 or texts[0][0] or texts[1][0]:
                    self.problems.append(f"{where}: cannot read the declaration of Reason.{m.group(1)}; write it as "
                                         "`static let name = Reason(.status, \"reason\", \"meaning\"[, retired: \"why\"])`")
                    continue
                if sm.group(1) not in self.statuses:
                    self.problems.append(f"{where}: Reason.{m.group(1)} has the unknown status .{sm.group(1)}")
                    continue
                for position, title in marks:
                    if position < m.start():
                        area = title
                retired = dict(texts[2:]).get("retired")
                declared = Declared(m.group(1), texts[0][1], sm.group(1), texts[1][1], retired, area, s, m.start())
                if any(d.reason == declared.reason for d in registry.values()):
                    self.problems.append(f"{where}: the reason {declared.reason} is declared twice")
                registry[declared.ident] = declared
        if not registry:
            raise SystemExit(f"catalogue.py: no Reason declarations found in {REGISTRY_FILE} under the sources")
        return registry

    # The BillingError helpers that build an error from a declared reason, and the status each
    # one is for (a `.refused(.missingField, …)` would publish the wrong kind of failure).
    HELPER_STATUS = {"invalid": "invalidArgument", "refused": "refused", "notFound": "notFound"}

    def _scan_reasons(self, s):
        """Every use of a declared reason: `Reason.name` anywhere, `.name` inside the arguments of
        `BillingError(…)` or one of its helpers, and `.name` anywhere else when no other member
        of the sources has that name (e.g. the `(identifier, name, .emailTaken)` table)."""
        code = s.code
        calls = []  # (paren, close, helper or None)
        for m in re.finditer(r"\bBillingError\s*\(|\.\s*(invalid|refused|notFound)\s*\(", code):
            paren = m.end() - 1
            calls.append((paren, matching(code, paren), m.group(1)))
        # `BillingError.overflow(what)` builds amount_out_of_range itself.
        for m in re.finditer(r"\bBillingError\s*\.\s*overflow\s*\(", code):
            declared = self.by_reason.get("amount_out_of_range")
            if declared:
                self.reason_sites.append((declared.reason, declared.status, s, m.start(), self.enclosing(s, m.start())))
        for m in re.finditer(r"(\bReason\s*)?\.\s*`?([a-z]\w*)`?(?![\w`])(?!\s*\()", code):
            declared = self.registry.get(m.group(2))
            if declared is None:
                continue
            inside = [c for c in calls if c[0] < m.start() < c[1]]
            if not m.group(1) and not inside and declared.ident in self.other_members:
                continue
            if inside and inside[-1][2] in self.HELPER_STATUS:
                paren, close, helper = inside[-1]
                first = split_arguments(code, paren + 1, close)[:1]
                expected = self.HELPER_STATUS[helper]
                if first and first[0][0] <= m.start() < first[0][1] and declared.status != expected:
                    self.problems.append(f"{self.where(s, m.start())}: BillingError.{helper} is for status .{expected} "
                                         f"but Reason.{declared.ident} ({declared.reason}) is declared .{declared.status}")
            self.reason_sites.append((declared.reason, declared.status, s, m.start(), self.enclosing(s, m.start())))

    # -- events ----------------------------------------------------------------------------

    EMIT = re.compile(r"\.\s*emit\s*\(|\bEventLog\s*\.\s*append\s*\(")

    def _scan_events(self, s):
        code = s.code
        for m in self.EMIT.finditer(code):
            function = self.enclosing(s, m.start())
            if function is not None and function.name == "emit":
                continue  # OperationContext.emit forwards its parameters to EventLog.append
            paren = m.end() - 1
            args = split_arguments(code, paren + 1, matching(code, paren))
            type_span, data_span, written = None, None, False
            for index, span in enumerate(args):
                label, value_start = label_of(code, span)
                if label == "type" or (label is None and index == 0 and "emit" in m.group(0)):
                    type_span = (value_start, span[1])
                elif label == "data":
                    data_span = (value_start, span[1])
                elif label == "dataText":
                    written = True  # written by a direct writer: its fields are listed in the notes
            if type_span is None:
                continue
            types = self.values(s, type_span, "event type", function)
            fields = None if written else self._data_fields(s, data_span, function) if data_span else []
            for event in types:
                self.event_sites.append((event, fields, s, m.start(), function))

    def _dict_keys(self, s, start, end):
        """The top-level string keys of a dictionary literal at code[start:end], or None."""
        code = s.code
        text = code[start:end].strip()
        if not text.startswith("["):
            return None
        open_at = code.index("[", start)
        close = matching(code, open_at)
        if code[open_at + 1:close].strip() == ":":
            return []
        keys = []
        for span in split_arguments(code, open_at + 1, close):
            lits = s.literals(*span)
            colon = code.find(":", span[0], span[1])
            if not lits or colon < 0 or lits[0][0] > colon or lits[0][3]:
                return None
            keys.append(lits[0][2])
        return keys

    def _data_fields(self, s, span, function):
        """Field names of the data argument, or None when they cannot be read here."""
        code = s.code
        keys = self._dict_keys(s, *span)
        if keys is not None:
            return keys
        text = code[span[0]:span[1]].strip()
        if re.fullmatch(r"[A-Za-z_]\w*", text) and function is not None:
            body_start = function.body_start
            defs = list(re.finditer(r"\b(?:let|var)\s+" + text + r"\b[^=\n]*=\s*", code[body_start:span[0]]))
            if defs:
                start = body_start + defs[-1].end()
                if code[start] == "[":
                    keys = self._dict_keys(s, start, matching(code, start) + 1)
                    if keys is not None:
                        extra = re.findall(r"\b" + text + r'\s*\[\s*"', code[start:span[0]])
                        if not extra:
                            return keys
        return None


# --------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------


def snake(name):
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def header_statuses(header_path):
    with open(header_path, encoding="utf-8") as handle:
        text = handle.read()
    return {int(code): name for name, code in re.findall(r"#define\s+(BILLING_(?:OK|E_\w+))\s+(\d+)\b", text)}


def header_enum(header_path):
    """The constants of `typedef enum billing_status`, code -> name."""
    with open(header_path, encoding="utf-8") as handle:
        text = handle.read()
    m = re.search(r"enum\s+billing_status\s*\{([^}]*)\}", text)
    if not m:
        return {}
    return {int(code): name for name, code in re.findall(r"(BILLING_STATUS_\w+)\s*=\s*(\d+)", m.group(1))}


def load_notes(path):
    if not os.path.exists(path):
        return {"reasons": {}, "events": {}, "expansions": {}}
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def build(scanner, header_path, notes):
    macros = header_statuses(header_path)
    constants = header_enum(header_path)
    problems = list(scanner.problems)
    for code, name in sorted(macros.items()):
        expected = name.replace("BILLING_E_", "BILLING_STATUS_").replace("BILLING_OK", "BILLING_STATUS_OK")
        if constants.get(code) != expected:
            problems.append(f"include/billing.h: {name} = {code} but enum billing_status has "
                            f"{constants.get(code, 'no constant')} for {code} (expected {expected} = {code})")
    for code, name in sorted(constants.items()):
        if code not in macros:
            problems.append(f"include/billing.h: enum billing_status has {name} = {code} but no #define has {code}")
    for name, code in scanner.statuses.items():
        if code not in macros:
            problems.append(f"BillingError.Status.{name} = {code} has no #define in include/billing.h")

    def functions_for(sites, extra):
        names = set(extra or [])
        for site in sites:
            function = site[-1]
            names |= scanner.reached.get(function, set())
        return sorted(names)

    def locations(sites):
        seen = []
        for site in sites:
            s, position, function = site[2], site[3], site[4]
            where = f"{s.rel}:{s.line(position)}" + (f" ({function.label})" if function else "")
            if where not in seen:
                seen.append(where)
        return seen

    grouped = {}
    for site in scanner.reason_sites:
        grouped.setdefault(site[0], []).append(site)
    reasons = []
    for declared in sorted(scanner.registry.values(), key=lambda d: (scanner.statuses[d.status], d.reason)):
        sites = grouped.get(declared.reason, [])
        where = scanner.where(declared.source, declared.position)
        if not sites and not declared.retired:
            problems.append(f"{where}: Reason.{declared.ident} ({declared.reason}) is declared but thrown nowhere; "
                            "use it, or keep it with `retired: \"why\"` (a published reason is never removed)")
        if sites and declared.retired:
            problems.append(f"{where}: Reason.{declared.ident} ({declared.reason}) is marked retired but still thrown at "
                            + "; ".join(locations(sites)))
        code = scanner.statuses[declared.status]
        entry = {
            "reason": declared.reason,
            "status": code,
            "status_name": macros.get(code, snake(declared.status).upper()),
            "meaning": declared.meaning,
            "area": declared.area,
            "functions": functions_for(sites, None),
            "sources": locations(sites),
        }
        if declared.retired:
            entry["retired"] = declared.retired
        reasons.append(entry)

    event_notes = notes.get("events", {})
    grouped = {}
    for site in scanner.event_sites:
        grouped.setdefault(site[0], []).append(site)
    events = []
    for event, sites in sorted(grouped.items()):
        note = event_notes.get(event, {})
        fields = set()
        for site in sites:
            if site[1] is None:
                if "data" not in note:
                    problems.append(
                        f"{site[2].rel}:{site[2].line(site[3])}: cannot read the data fields of {event}; "
                        f"list them as \"data\": [...] under \"events\" -> \"{event}\" in docs/catalogue-notes.json")
            else:
                fields.update(site[1])
        fields.update(note.get("data", []))
        events.append({
            "type": event,
            "data": sorted(fields),
            "meaning": note.get("meaning", ""),
            "functions": functions_for(sites, note.get("functions")),
            "sources": locations(sites),
        })

    statuses = [{"code": code, "name": macros.get(code, ""), "enum": constants.get(code, ""), "swift": name}
                for name, code in sorted(scanner.statuses.items(), key=lambda item: item[1])]
    if 0 in macros:
        statuses.insert(0, {"code": 0, "name": macros[0], "enum": constants.get(0, ""), "swift": None})
    catalogue = {
        "generated_by": REGENERATE,
        "statuses": statuses,
        "reasons": reasons,
        "events": events,
    }
    return catalogue, problems


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(catalogue, exports):
    out = ["# Error reasons and events", "",
           f"Generated by `{REGENERATE}` from the registry of reasons "
           "(`Sources/BillingDomain/Values/Reasons.swift`), the Swift sources and `docs/catalogue-notes.json`; "
           "do not edit by hand (edit the registry or the notes and regenerate). The same data is in "
           "[catalogue.json](catalogue.json), the reason list of `include/billing.h` and the Python module "
           "`billing.reasons`. `make test` runs `scripts/catalogue.py --check`, "
           "which fails when a reason or event in the sources is missing here, stale, or has no meaning.",
           "",
           "\"Functions\" lists the C functions that may return the reason or emit the event, derived "
           "from the call graph of the sources (an over-approximation: a function is listed when a "
           f"path of calls may reach the site). \"every function\" means all "
           f"{len([name for name in exports if name not in NO_STATUS])} exported functions that return a status.", "",
           "## Status codes", "",
           "Returned as `int`; `include/billing.h` names each code twice, as a macro and as a constant of "
           "`enum billing_status` (for FFI tools that drop preprocessor lines).", "",
           "| Code | Macro | Enum constant | Swift `BillingError.Status` |", "|---:|---|---|---|"]
    for status in catalogue["statuses"]:
        swift = ("`." + status["swift"] + "`") if status["swift"] else "—"
        out.append(f"| {status['code']} | `{status['name']}` | `{status['enum']}` | {swift} |")
    out += ["", "## Reasons", "",
            f"{len(catalogue['reasons'])} reasons, by status. A reason is stable: hosts may branch on it.", ""]
    current = None
    for r in catalogue["reasons"]:
        if r["status_name"] != current:
            current = r["status_name"]
            out += ["", f"### {current} ({r['status']})", "", "| Reason | Meaning | Functions |", "|---|---|---|"]
        meaning = r["meaning"] + (f" Retired: {r['retired']}" if r.get("retired") else "")
        out.append(f"| `{r['reason']}` | {cell(meaning)} | {cell(function_list(r['functions'], exports))} |")
    out += ["", "## Events", "",
            f"{len(catalogue['events'])} event types. Every event row has `seq`, `type`, `account_id`, "
            "`subject_id`, `occurred_at` and `data`; the table lists the keys of `data`.", "",
            "| Type | `data` fields | Meaning | Functions |", "|---|---|---|---|"]
    for e in catalogue["events"]:
        fields = ", ".join(f"`{f}`" for f in e["data"]) or "—"
        out.append(f"| `{e['type']}` | {fields} | {cell(e['meaning'])} | {cell(function_list(e['functions'], exports))} |")
    out += ["", "## Where they are raised", "",
            "Source locations with the enclosing function; line numbers are those of the last regeneration "
            "(the check compares files and functions, not lines).", ""]
    for r in catalogue["reasons"]:
        out.append(f"- `{r['reason']}`: " + "; ".join(r["sources"]))
    for e in catalogue["events"]:
        out.append(f"- event `{e['type']}`: " + "; ".join(e["sources"]))
    return "\n".join(out) + "\n"


def function_list(functions, exports):
    fallible = [name for name in exports if name not in NO_STATUS]
    if set(fallible) <= set(functions):
        rest = [f for f in functions if f not in fallible]
        return "every function" + ("" if not rest else ", " + ", ".join(rest))
    return ", ".join(functions) or "—"


# Exports that return no status (they cannot fail).
NO_STATUS = {"billing_version", "billing_version_number", "billing_status_string", "billing_last_error_code",
             "billing_last_error_reason", "billing_last_error_message", "billing_string_free", "billing_engine_close"}


def comparable(catalogue):
    """The parts the check compares (source line numbers move with every edit; not compared)."""
    def strip(sources):
        return sorted({re.sub(r":\d+", "", s) for s in sources})
    return (
        catalogue.get("statuses"),
        {(r["reason"], r["status"]): (r["meaning"], r.get("area"), r.get("retired"), r["functions"], strip(r["sources"]))
         for r in catalogue.get("reasons", [])},
        {e["type"]: (e["data"], e["meaning"], e["functions"], strip(e["sources"])) for e in catalogue.get("events", [])},
    )


def check(fresh, committed, problems, notes_path):
    failures = list(problems)
    if committed is None:
        failures.append("docs/catalogue.json does not exist")
    else:
        f_statuses, f_reasons, f_events = comparable(fresh)
        c_statuses, c_reasons, c_events = comparable(committed)
        if f_statuses != c_statuses:
            failures.append("the status codes differ from the committed catalogue")
        for key in sorted(set(f_reasons) - set(c_reasons)):
            failures.append(f"reason {key[0]} (status {key[1]}) is declared in {REGISTRY_FILE} but missing from docs/catalogue.json")
        for key in sorted(set(c_reasons) - set(f_reasons)):
            failures.append(f"reason {key[0]} (status {key[1]}) is in docs/catalogue.json but no longer declared in {REGISTRY_FILE} "
                            "(a published reason is never removed: keep it there with `retired: \"why\"`)")
        for key in sorted(set(f_reasons) & set(c_reasons)):
            if f_reasons[key] != c_reasons[key]:
                failures.append(f"reason {key[0]}: its meaning, area, functions or source files changed since the catalogue was generated")
        for key in sorted(set(f_events) - set(c_events)):
            failures.append(f"event {key} is in the sources but missing from docs/catalogue.json")
        for key in sorted(set(c_events) - set(f_events)):
            failures.append(f"event {key} is in docs/catalogue.json but no longer in the sources (stale)")
        for key in sorted(set(f_events) & set(c_events)):
            if f_events[key] != c_events[key]:
                failures.append(f"event {key}: its data fields, meaning, functions or source files changed since the catalogue was generated")
    for r in fresh["reasons"]:
        if not r["meaning"].strip():
            failures.append(f"reason {r['reason']} has no meaning: write one in its declaration in {REGISTRY_FILE}")
    for e in fresh["events"]:
        if not e["meaning"].strip():
            failures.append(f"event {e['type']} has no meaning: write one under \"events\" -> \"{e['type']}\" -> \"meaning\" in docs/catalogue-notes.json")
    return failures


def add_stubs(notes, catalogue):
    """New reasons and events get an empty meaning in the notes, ready to be filled in; notes of
    reasons and events that no longer exist are reported (and kept: another branch may use them)."""
    added = []
    for e in catalogue["events"]:
        entry = notes.setdefault("events", {}).setdefault(e["type"], {})
        if "meaning" not in entry:
            entry["meaning"] = ""
            added.append(e["type"])
    notes["events"] = dict(sorted(notes["events"].items()))
    return added


# --------------------------------------------------------------------------------------------
# The other published lists, written from the same registry: the header's reason list and the
# Python binding's `billing.reasons` module.
# --------------------------------------------------------------------------------------------

HEADER_BEGIN = "/* ---- Reasons (generated by python3 scripts/catalogue.py from BillingDomain/Values/Reasons.swift) ---- */"
HEADER_END = "/* ---- End of reasons ---- */"
PYTHON_MODULE = os.path.join("examples", "python", "billing", "reasons.py")


def header_reasons(catalogue, width=92):
    """The header's reason list: the reasons of each status, as a comment (the meanings are in
    docs/catalogue.md and billing.reasons)."""
    out = [HEADER_BEGIN, "",
           "/* The reasons billing_last_error_reason() and billing_call's error document can carry, by",
           "   status. A reason is stable (never renamed, never reused); treat one you do not know by",
           "   its status. Each reason's meaning and the functions that return it: docs/catalogue.md.",
           ""]
    by_status = {}
    for r in catalogue["reasons"]:
        by_status.setdefault((r["status"], r["status_name"]), []).append(r)
    for (code, name), reasons in sorted(by_status.items()):
        line = f"   {name}:"
        for r in reasons:
            word = f" {r['reason']}" + (" (retired)" if r.get("retired") else "")
            if len(line) + len(word) + 1 > width:
                out.append(line)
                line = "     "
            line += word
        out.append(line)
    out[-1] += " */"
    out += ["", HEADER_END]
    return "\n".join(out)


def with_header_reasons(text, block):
    """The header text with its reason list replaced (or added after `enum billing_status`)."""
    if HEADER_BEGIN in text and HEADER_END in text:
        start = text.index(HEADER_BEGIN)
        end = text.index(HEADER_END) + len(HEADER_END)
        return text[:start] + block + text[end:]
    anchor = re.search(r"\}\s*billing_status\s*;\n", text)
    if not anchor:
        raise SystemExit("catalogue.py: include/billing.h has no `} billing_status;` to put the reason list after")
    return text[:anchor.end()] + "\n" + block + "\n" + text[anchor.end():]


def python_module(catalogue):
    """examples/python/billing/reasons.py: a constant per reason, and REASONS with each one's
    status and meaning, so that hosts branch on names their editor and type checker know."""
    names = {s["code"]: s["name"] for s in catalogue["statuses"]}
    out = ['"""Every reason a libbilling error can carry, with its status and meaning.',
           "",
           "Generated by `python3 scripts/catalogue.py` from Sources/BillingDomain/Values/Reasons.swift;",
           "do not edit by hand. A reason is stable: branch on it, and treat one this module does not",
           "list (a newer library) by its status code.",
           "",
           "    from billing import reasons",
           "    try:",
           "        engine.order_pay(...)",
           "    except billing.errors.Refused as error:",
           "        if error.reason == reasons.INSUFFICIENT_FUNDS:",
           "            ...",
           "    reasons.REASONS[error.reason].meaning  # one line for a caller",
           '"""',
           "",
           "from __future__ import annotations",
           "",
           "from typing import Dict, NamedTuple, Optional",
           "",
           "",
           "class Reason(NamedTuple):",
           '    """A declared reason: its word, its status code (a BILLING_E_* value) and its meaning."""',
           "",
           "    name: str",
           "    status: int",
           "    meaning: str",
           "    retired: Optional[str] = None",
           ""]
    current = None
    for r in sorted(catalogue["reasons"], key=lambda r: (r["status"], r["reason"])):
        if r["status"] != current:
            current = r["status"]
            out += ["", f"# {names.get(current, current)} ({current})"]
        out.append(f"{r['reason'].upper()} = {json.dumps(r['reason'])}")
    out += ["", "", "REASONS: Dict[str, Reason] = {"]
    for r in sorted(catalogue["reasons"], key=lambda r: (r["status"], r["reason"])):
        retired = f", retired={json.dumps(r['retired'], ensure_ascii=False)}" if r.get("retired") else ""
        out.append(f"    {r['reason'].upper()}: Reason({r['reason'].upper()}, {r['status']},")
        out.append(f"                {json.dumps(r['meaning'], ensure_ascii=False)}{retired}),")
    out += ["}", ""]
    return "\n".join(out)


def read(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def write(path, text):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/catalogue.json is not what the sources give")
    parser.add_argument("--sources", default=os.path.join(ROOT, "Sources"), help="the Swift sources (default Sources/)")
    parser.add_argument("--header", default=os.path.join(ROOT, "include", "billing.h"))
    parser.add_argument("--docs", default=os.path.join(ROOT, "docs"), help="where catalogue.json, .md and the notes live")
    parser.add_argument("--root", default=ROOT, help="where examples/python/billing/reasons.py is written (default the checkout)")
    args = parser.parse_args(argv)

    notes_path = os.path.join(args.docs, "catalogue-notes.json")
    json_path = os.path.join(args.docs, "catalogue.json")
    md_path = os.path.join(args.docs, "catalogue.md")
    notes = load_notes(notes_path)
    scanner = Scanner(args.sources, notes)
    catalogue, problems = build(scanner, args.header, notes)

    if args.check:
        committed = None
        if os.path.exists(json_path):
            with open(json_path, encoding="utf-8") as handle:
                committed = json.load(handle)
        failures = check(catalogue, committed, problems, notes_path)
        header = read(args.header) or ""
        if header_reasons(catalogue) not in header:
            failures.append(f"{os.path.relpath(args.header, ROOT)}: its reason list is not the registry's")
        if read(os.path.join(args.root, PYTHON_MODULE)) != python_module(catalogue):
            failures.append(f"{PYTHON_MODULE} is not the registry's")
        if failures:
            print("catalogue check failed:", file=sys.stderr)
            for failure in failures:
                print("  - " + failure, file=sys.stderr)
            print(f"\nTo fix: declare each new reason once in {REGISTRY_FILE} with its status and meaning (one "
                  f"line: what it means for a caller); run `{REGENERATE}` (it rewrites docs/catalogue.json, "
                  "docs/catalogue.md, the reason list of include/billing.h and examples/python/billing/reasons.py, "
                  "and adds an empty \"meaning\" to docs/catalogue-notes.json for each new event), write each "
                  "missing event meaning there, run it again, and commit what changed.", file=sys.stderr)
            return 1
        print(f"catalogue up to date: {len(catalogue['reasons'])} reasons, {len(catalogue['events'])} events")
        return 0

    added = add_stubs(notes, catalogue)
    os.makedirs(args.docs, exist_ok=True)
    with open(notes_path, "w", encoding="utf-8") as handle:
        json.dump(notes, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    catalogue, problems = build(scanner, args.header, notes)
    with open(json_path, "w", encoding="utf-8") as handle:
        json.dump(catalogue, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    with open(md_path, "w", encoding="utf-8") as handle:
        handle.write(markdown(catalogue, scanner.exports))
    write(args.header, with_header_reasons(read(args.header), header_reasons(catalogue)))
    os.makedirs(os.path.dirname(os.path.join(args.root, PYTHON_MODULE)), exist_ok=True)
    write(os.path.join(args.root, PYTHON_MODULE), python_module(catalogue))
    print(f"wrote {os.path.relpath(json_path)} and {os.path.relpath(md_path)}: "
          f"{len(catalogue['reasons'])} reasons, {len(catalogue['events'])} events")
    for problem in problems:
        print("  problem: " + problem, file=sys.stderr)
    missing = [r["reason"] for r in catalogue["reasons"] if not r["meaning"].strip()] + \
              [e["type"] for e in catalogue["events"] if not e["meaning"].strip()]
    if added:
        print("new in docs/catalogue-notes.json (write their meanings): " + ", ".join(added))
    if missing:
        print(f"still without a meaning in docs/catalogue-notes.json: {', '.join(missing)}; "
              f"fill them in and run `{REGENERATE}` again")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
