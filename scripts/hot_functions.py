#!/usr/bin/env python3
"""Hot paths' functions, laid out together in the release library.

A login runs right after an argon2id pass over tens of MiB, so every line of code it runs
comes back from memory and every page of code it runs needs its address translated afresh.
Scattered over the library's 13 MB of text (132 pages), the login's functions cost it some
30 microseconds more than laid out together (bench/README.md, "2026-12-08: the login's code,
laid out together"). The release build therefore compiles each function into its own
section (-function-sections) and has lld place the functions scripts/hot-functions.txt lists
first, in its order (--symbol-ordering-file): the login's, on about 20 pages, then those a
configuration write and a create + pay run besides. Only the layout changes; a name no
longer in the library is skipped.

  hot_functions.py generate [OUT]   profile the three paths under callgrind and write the list
                                    (default scripts/hot-functions.txt); needs valgrind and
                                    `make build`, run from the repository root
  hot_functions.py check LIBRARY    say how many listed functions the library holds and how
                                    many of them lead its text (make build runs this)

The list names the library's own functions and the Swift runtime's, mangled, as callgrind saw
them in the bench programs' library sides (PROFILES). Functions of the toolchain's static
libraries that share a section with the rest of their object (the standard library's 1.6 MB
in libswiftCore.a, each of FoundationEssentials' files) are left out: ordering one of them
would move that whole section to the front and split the cluster.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = os.path.join(ROOT, "scripts", "hot-functions.txt")
HEADER = ("# The release library's functions placed first, in this order (scripts/hot_functions.py: the\n"
          "# functions bench_login's timed logins ran, then bench_write's configuration writes and\n"
          "# bench_orders's create + pay). Regenerate after changing those paths.\n")

# What is profiled, in the order its functions are laid out: the login first (the one path
# that runs on caches emptied by design), then a configuration write and a create + pay, so
# that their own functions sit next to the ones they share with the login instead of where
# the objects' order left them. Each: bench program, its arguments, the functions whose
# calls are collected (bench_login's timed side, whose address bench_alternate takes; the
# other two by the library's exported calls, which no compiler inlines away).
PROFILES = [
    ("bench_login", ["1", "10"], ["library_logins"]),
    ("bench_write", ["200", "200", "10"], ["billing_config_update"]),
    ("bench_orders", ["50", "50", "2100", "20", "20", "1"], ["billing_order_create", "billing_order_pay"]),
]


def profiled_functions(path, library):
    """The functions of `library` that ran instructions in a callgrind file (--demangle=no)."""
    names, objects, owner = {}, {}, {}
    function = current_object = None
    in_call = False
    ran = set()
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
                ran.add(function)
    result = set()
    for index in ran:
        if library in objects.get(owner.get(index), ""):
            name = re.sub(r"'\d+$", "", names[index])  # callgrind's recursion marks
            if not name.startswith("0x"):  # no symbol: nothing to order
                result.add(name)
    return result


def static_libraries():
    """The toolchain's static libraries (where libswiftCore.a is, next to the swiftc on PATH)."""
    swiftc = shutil.which("swiftc") or "/opt/swift/usr/bin/swiftc"
    directory = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(swiftc))), "lib", "swift_static")
    for parent, _, files in sorted(os.walk(directory)):
        if "libswiftCore.a" in files:
            return [os.path.join(parent, name) for name in sorted(files) if name.endswith(".a")]
    sys.exit(f"libswiftCore.a not found under {directory}")


def unmovable_symbols():
    """Names the toolchain's static libraries define in a plain `.text` section, one an
    object shares among its functions (the standard library's 1.6 MB, each of Foundation's
    files'). A specialization can have the same local name in one of our objects and in such
    a section: ordering the name would move both."""
    unmovable = set()
    for archive in static_libraries():
        text = subprocess.run(["readelf", "-sSW", archive], capture_output=True, check=True).stdout.decode(errors="replace")
        sections = {}
        for line in text.splitlines():
            if line.startswith("File:"):
                sections = {}
                continue
            section = re.match(r"^\s*\[\s*(\d+)\]\s+(\S+)\s", line)
            if section:
                sections[section.group(1)] = section.group(2)
                continue
            # readelf writes a size of 100,000 bytes or more in hex.
            symbol = re.match(r"^\s*\d+:\s+[0-9a-f]+\s+(?:0x[0-9a-f]+|\d+)\s+FUNC\s+\S+\s+\S+\s+(\d+)\s+(\S+)$", line)
            if symbol:
                name = sections.get(symbol.group(1), "")
                if name == ".text":
                    unmovable.add(symbol.group(2))
    return unmovable


def generate(out):
    if not shutil.which("valgrind"):
        sys.exit("generate needs valgrind (Debian: apt-get install valgrind)")
    library = os.path.join(ROOT, "dist", "lib", "libbilling.so")
    subprocess.run(["make", "-C", "bench", "programs", "LIBDIR=" + os.path.dirname(library),
                    "INCDIR=" + os.path.join(ROOT, "dist", "include")], check=True, stdout=subprocess.DEVNULL)
    unmovable = unmovable_symbols()
    kept, seen = [], set()
    with tempfile.TemporaryDirectory() as scratch:
        for program, arguments, collected in PROFILES:
            profile = os.path.join(scratch, program + ".out")
            subprocess.run(["valgrind", "--tool=callgrind", "--demangle=no",
                            *("--toggle-collect=" + name for name in collected),
                            "--callgrind-out-file=" + profile, os.path.join(ROOT, "bench", "build", program), *arguments],
                           check=True, cwd=scratch, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            functions = profiled_functions(profile, "libbilling.so")
            if not functions:  # a renamed function would leave the list silently short
                sys.exit(f"{program}: nothing profiled in {', '.join(collected)}")
            # Sorted by name within each profile: the list changes only where the functions
            # run do (within the pages they fill their order matters little, and callgrind's
            # order moved at every profile).
            kept += sorted(functions - seen - unmovable)
            seen |= functions
    with open(out, "w") as file:
        file.write(HEADER)
        file.writelines(name + "\n" for name in kept)
    print(f"{out}: {len(kept)} functions ({len(seen & unmovable)} left in the toolchain libraries' shared sections)")


def listed():
    return [line.strip() for line in open(LIST) if line.strip() and not line.startswith("#")]


def check(library):
    """How many listed functions the library defines, and how many of those come before any
    function the list does not name (objects built without function sections, or a link
    that ignored the list, would lay out few of them first)."""
    names = set(listed())
    symbols = subprocess.run(["nm", "--defined-only", "-n", library], capture_output=True, text=True,
                             check=True).stdout
    text = [line.split() for line in symbols.splitlines()]
    text = [(int(fields[0], 16), fields[2]) for fields in text if len(fields) == 3 and fields[1] in "tT"]
    present = {name for _, name in text if name in names}
    # Walk the text from its start (past _init and _fini): a listed function may share its
    # address with an alias the list does not name.
    listed_addresses = {address for address, name in text if name in names}
    leading = set()
    for address, name in text:
        if name in ("_init", "_fini"):
            continue
        if name in names:
            leading.add(name)
        elif address not in listed_addresses:
            break
    note = "" if len(present) == len(names) else " (scripts/hot_functions.py generate brings the list up to date)"
    if len(leading) < len(present):
        note += f"; only {len(leading)} lead the text: rebuild without stale objects (rm -rf .build)"
    print(f"hot functions: {len(present)} of {len(names)} listed are in the library, "
          f"{len(leading)} of them laid out first{note}")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "generate":
        generate(sys.argv[2] if len(sys.argv) > 2 else LIST)
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        sys.exit(__doc__)
