#!/usr/bin/env python3
"""The login's functions, laid out together in the release library.

A login runs right after an argon2id pass over tens of MiB, so every line of code it runs
comes back from memory and every page of code it runs needs its address translated afresh.
Scattered over the library's 13 MB of text (132 pages), the login's functions cost it some
20-40 microseconds more than laid out together (bench/README.md, "The login's code, laid out
together"). The release build therefore compiles each function into its own section
(-function-sections) and has lld place the functions scripts/hot-functions.txt lists first,
in its order (--symbol-ordering-file): the login's code then spans about 20 pages. Only the
layout changes; a name no longer in the library is skipped.

  hot_functions.py generate [OUT]   profile logins under callgrind and write the list
                                    (default scripts/hot-functions.txt); needs valgrind and
                                    `make build`, run from the repository root
  hot_functions.py check LIBRARY    say how many listed functions the library holds (make build)

The list names the library's own functions and the Swift runtime's, mangled, as callgrind saw
them in bench_login's timed library logins (library_logins: a successful login again and
again). The Swift standard library's functions that live in one shared section of
libswiftCore.a are left out: ordering one of them would move that whole 1.6 MB section to
the front and split the login's code in two.
"""
import collections
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = os.path.join(ROOT, "scripts", "hot-functions.txt")
HEADER = ("# The release library's functions placed first, in this order (scripts/hot_functions.py: the\n"
          "# functions bench_login's timed logins ran, then bench_write's writes and bench_orders's buys).\n"
          "# Regenerate after changing those paths.\n")


def profiled_functions(path, library):
    """Functions of `library` with instructions in a callgrind file (--demangle=no), in the
    order the file first gives their costs."""
    names, objects, owner = {}, {}, {}
    function = current_object = None
    in_call = False
    cost = collections.Counter()
    order = []
    for line in open(path, errors="replace"):
        match = re.match(r"^(ob|fl|fi|fe|fn|cob|cfi|cfn|cfl)=\((\d+)\)(?: (.*))?", line)
        if match:
            kind, index, name = match.groups()
            if kind in ("ob", "cob") and name:
                objects[index] = name.strip()
            if kind == "ob":
                current_object = index
            if kind in ("fn", "cfn") and name:
                names[index] = name.strip()
            if kind == "fn":
                function = index
                owner[index] = current_object
            continue
        if line.startswith("calls="):
            in_call = True  # the next cost line is the call's inclusive cost, not this function's
            continue
        if line[:1].isdigit() or line[:1] in "+-*":
            if in_call:
                in_call = False
                continue
            fields = line.split()
            if len(fields) > 1 and int(fields[1]) > 0:
                if function not in cost:
                    order.append(function)
                cost[function] += int(fields[1])
    result = []
    for index in order:
        if library in objects.get(owner.get(index), ""):
            name = re.sub(r"'\d+$", "", names[index])  # callgrind's recursion marks
            if name not in result and not name.startswith("0x"):  # no symbol: nothing to order
                result.append(name)
    return result


def unmovable_symbols():
    """Symbols libswiftCore.a defines in a plain `.text` section larger than 64 KiB."""
    found = subprocess.run(["find", "/opt/swift/usr/lib/swift_static", "-name", "libswiftCore.a"],
                           capture_output=True, text=True).stdout.split()
    if not found:
        sys.exit("libswiftCore.a not found under /opt/swift/usr/lib/swift_static")
    text = subprocess.run(["readelf", "-sSW", found[0]], capture_output=True, text=True).stdout
    unmovable, sections = set(), {}
    for line in text.splitlines():
        if line.startswith("File:"):
            sections = {}
            continue
        section = re.match(r"^\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if section:
            sections[section.group(1)] = (section.group(2), int(section.group(3), 16))
            continue
        symbol = re.match(r"^\s*\d+:\s+[0-9a-f]+\s+\d+\s+FUNC\s+\S+\s+\S+\s+(\d+)\s+(\S+)$", line)
        if symbol:
            name, size = sections.get(symbol.group(1), ("", 0))
            if name == ".text" and size > 65536:
                unmovable.add(symbol.group(2))
    return unmovable


# What is profiled, in the order its functions are laid out: the login first (the one path
# that runs on caches emptied by design), then a configuration write and a create + pay, so
# that their own functions sit next to the ones they share with the login instead of where
# the objects' order left them. Each: bench program, its arguments, its timed library side.
PROFILES = [
    ("bench_login", ["1", "10"], "library_logins"),
    ("bench_write", ["200", "200", "10"], "library_write_side"),
    ("bench_orders", ["50", "50", "2100", "20", "20", "1"], "library_buys"),
]


def generate(out):
    library = os.path.join(ROOT, "dist", "lib", "libbilling.so")
    subprocess.run(["make", "-C", "bench", "programs", "LIBDIR=" + os.path.dirname(library),
                    "INCDIR=" + os.path.join(ROOT, "dist", "include")], check=True, stdout=subprocess.DEVNULL)
    unmovable = unmovable_symbols()
    kept, left = [], 0
    with tempfile.TemporaryDirectory() as scratch:
        for program, arguments, side in PROFILES:
            profile = os.path.join(scratch, program + ".out")
            subprocess.run(["valgrind", "--tool=callgrind", "--demangle=no", "--toggle-collect=" + side,
                            "--callgrind-out-file=" + profile, os.path.join(ROOT, "bench", "build", program), *arguments],
                           check=True, cwd=scratch, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            profiled = profiled_functions(profile, "libbilling.so")
            if not profiled:  # a renamed or inlined side would leave the list silently short
                sys.exit(f"{program}: nothing profiled in {side}")
            functions = [name for name in profiled if name not in kept]
            left += sum(name in unmovable for name in functions)
            # Sorted by name within each profile: the list changes only where the functions
            # run do (within the pages they fill their order matters little, and callgrind's
            # order moved at every profile).
            kept += sorted(name for name in functions if name not in unmovable)
    with open(out, "w") as file:
        file.write(HEADER)
        file.writelines(name + "\n" for name in kept)
    print(f"{out}: {len(kept)} functions ({left} left in libswiftCore's shared section)")


def listed():
    return [line.strip() for line in open(LIST) if line.strip() and not line.startswith("#")]


def check(library):
    names = listed()
    symbols = subprocess.run(["nm", library], capture_output=True, text=True, check=True).stdout
    held = {line.split()[-1] for line in symbols.splitlines() if line.strip()}
    present = sum(name in held for name in names)
    note = "" if present == len(names) else " (scripts/hot_functions.py generate brings the list up to date)"
    print(f"hot functions: {present} of {len(names)} listed are in the library, laid out first{note}")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "generate":
        generate(sys.argv[2] if len(sys.argv) > 2 else LIST)
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        sys.exit(__doc__)
