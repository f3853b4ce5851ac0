#!/usr/bin/env python3
"""gen_stubs.py: writes the COM stub files from the ABI headers.

    scripts/gen_stubs.py [--check] [ROOT]

host/stubs.inc: a stub for every ICorProfilerInfo1..15 and IMetaDataImport method the
harness host does not implement (every slot its vtable initialiser in host/info.c or
host/mdimport.c does not name), each opening with the host's entry macro, which traces
the call under --trace. An ICorProfilerInfo stub answers the HRESULT
host/info_unsupported.def gives it (CoreCLR's answer when the thing does not exist; a
slot neither implemented nor listed there fails this script) and names its index in
that list, by which the host counts the calls; an IMetaDataImport stub answers
E_NOTIMPL (FALSE for IsValidToken).
profiler/callback_stubs.inc: S_OK for the ICorProfilerCallback3 slots a rewriting
profiler does not use.

Signatures come from the slot macros of include/ilgraft/corprof.h and cor_md.h, the
order and the interface each method belongs to from include/ilgraft/corprof_slots.def
(the two must agree, or this fails). --check compares instead of writing and exits 1
when a file differs (the stubs_generated test runs it)."""
import re
import sys
from pathlib import Path

WIDTH = 100

# What the rewriting profilers implement themselves (never stubbed), and the groups a
# profiler may take over by defining the guard before including the file.
CB3_OWN = {"Initialize", "Shutdown", "ModuleLoadFinished", "JITCompilationStarted",
           "JITCompilationFinished"}
CB3_GROUPS = [
    ("ILG_CB3_OWN_CACHE_SEARCHES", "ILG__CB3_CACHE_SEARCH_SLOTS",
     {"JITCachedFunctionSearchStarted", "JITCachedFunctionSearchFinished"}),
    ("ILG_CB3_OWN_THREADS", "ILG__CB3_THREAD_SLOTS",
     {"ThreadCreated", "ThreadDestroyed", "ThreadAssignedToOSThread"}),
]


def slot_macro(text, name):
    """The methods of `#define NAME(T) ...` as (return type, method, parameters)."""
    m = re.search(r"^#define %s\(T\)(.*?)(?<!\\)\n" % name, text, re.M | re.S)
    if not m:
        sys.exit("gen_stubs: no slot macro %s" % name)
    body = re.sub(r"\\\n", " ", m.group(1))
    methods = []
    for decl in body.split(";"):
        decl = " ".join(decl.split()).replace("( ", "(").replace(" )", ")")
        if not decl:
            continue
        d = re.fullmatch(r"(.+?) ?\(\*(\w+)\)\(T \*This(?:, (.*))?\)", decl)
        if not d:
            sys.exit("gen_stubs: cannot read slot %r of %s" % (decl, name))
        params = ["%s *This" % "{T}"] + ([p.strip() for p in d.group(3).split(",")]
                                           if d.group(3) else [])
        methods.append((d.group(1), d.group(2), params))
    return methods


def slots_def(root):
    """corprof_slots.def as {interface version: [method in slot order]}, IUnknown's
    slots left out."""
    out = {}
    text = (root / "include/ilgraft/corprof_slots.def").read_text()
    for iface, ver, meth, slot in re.findall(
            r"^CORPROF_SLOT\((\w+), (\d+), (\w+), (\d+)\)", text, re.M):
        key = iface if ver == "1" else iface + ver  # ICorProfilerInfo, 2 is ICorProfilerInfo2
        out.setdefault(key, []).append((int(slot), meth))
    return {k: [m for s, m in sorted(v) if s > 2] for k, v in out.items()}


def vtable_names(path, vtbl):
    """The slots a C file's static const vtable initialiser names."""
    text = path.read_text()
    m = re.search(r"static const \w+ %s = \{(.*?)\};" % vtbl, text, re.S)
    if not m:
        sys.exit("gen_stubs: no vtable %s in %s" % (vtbl, path))
    return set(re.findall(r"\.(\w+)\s*=", m.group(1)))


def wrap_call(head, params, tail):
    """head(p1, p2, ...)tail, parameters wrapped under the parenthesis at WIDTH, or on
    lines of their own indented by 8 when the parenthesis is too far right for them."""
    lines, cur = [], head + "("
    indent = " " * len(cur)
    if len(indent) + max(len(p) + 2 for p in params) > WIDTH:
        lines.append(cur)
        indent = cur = " " * 8
    for i, p in enumerate(params):
        piece = p + (", " if i + 1 < len(params) else ")" + tail)
        if len(cur) + len(piece.rstrip()) > WIDTH and cur.strip() not in ("", head.strip() + "("):
            lines.append(cur.rstrip())
            cur = indent
        cur += piece
    lines.append(cur.rstrip())
    return "\n".join(lines)


def stub(iface, prefix, enter, ret, name, params, answer, extra=""):
    params = [p.replace("{T}", iface) for p in params]
    out = wrap_call("static %s %s%s" % (ret, prefix, name), params, "") + "\n{\n"
    # A method that returns no HRESULT cannot hand back a refusal: its entry only traces.
    out += '    %s%s(This, "%s"%s);\n' % (enter, "" if ret == "HRESULT" else "_NORESULT", name,
                                          extra)
    out += "    return %s;\n}\n" % answer if answer else "}\n"
    return out


def slots_macro(macro, prefix, names):
    lines = ["#define %s \\" % macro]
    lines += ["    .%s = %s%s, \\" % (n, prefix, n) for n in names]
    lines[-1] = lines[-1][:-2]
    return "\n".join(lines) + "\n"


def methods_of(root, iface, macros, order):
    """Every method of iface after IUnknown, in slot order, checked against the def."""
    headers = "".join((root / "include/ilgraft" / h).read_text()
                      for h in ("corprof.h", "corprof_callbacks.h", "cor_md.h"))
    methods = [m for mac in macros for m in slot_macro(headers, mac)]
    names = [m[1] for m in methods]
    want = [m for i in order for m in slots_def(root)[i]]
    if names != want:
        sys.exit("gen_stubs: %s: the header's slots %s differ from corprof_slots.def's %s"
                 % (iface, names, want))
    return methods


def answer_for(ret, hresult):
    return {"HRESULT": hresult, "BOOL": "FALSE", "void": None}.get(ret) or sys.exit(
        "gen_stubs: no stub answer for return type %s" % ret)


HOST_HEAD = """/* stubs.inc: generated by scripts/gen_stubs.py from corprof.h, cor_md.h and
 * corprof_slots.def; do not edit (the stubs_generated test regenerates and compares).
 *
 * A stub for every ICorProfilerInfo1..15, IMetaDataImport2 and IMetaDataAssemblyImport
 * method the harness host does not implement: every slot that info_vtbl (info.c), md_vtbl
 * (mdimport.c) or mda_vtbl (mdassembly.c) does not name. Each opens with the includer's
 * entry macro (ILG__INFO_STUB_ENTER, ILG__MD_STUB_ENTER, ILG__MDA_STUB_ENTER, _NORESULT
 * for a method without an HRESULT), which traces the call under --trace (and counts an
 * Info stub's calls by its HOST_UNSUP_ index); an Info stub then answers what
 * host/info_unsupported.def gives it, a metadata stub E_NOTIMPL (FALSE for IsValidToken).
 * The compiler checks each signature against its slot when the vtables are filled with
 * ILG__INFO_STUB_SLOTS / ILG__MD_STUB_SLOTS / ILG__MDA_STUB_SLOTS. Included once by each
 * of those files, with ILG__WANT_INFO_STUBS, ILG__WANT_MD_STUBS or ILG__WANT_MDA_STUBS
 * defined. */
"""

CB_HEAD = """/* callback_stubs.inc: generated by scripts/gen_stubs.py from corprof.h and
 * corprof_slots.def; do not edit (the stubs_generated test regenerates and compares).
 *
 * S_OK for the ICorProfilerCallback3 slots a rewriting profiler does not use (all but
 * IUnknown's, Initialize, Shutdown, ModuleLoadFinished and JITCompilationStarted/
 * Finished), in slot order. Written against corprof.h only; the compiler checks each
 * against its slot when a vtable is filled with ILG_CB3_STUB_SLOTS. Included once by
 * each profiler that wants them: our plugin and the test profilers. A profiler that
 * handles the three thread callbacks itself defines ILG_CB3_OWN_THREADS first, one that
 * handles JITCachedFunctionSearchStarted/Finished ILG_CB3_OWN_CACHE_SEARCHES, and names
 * those slots in its own vtable. Each stub opens with ILG_CB3_STUB_ENTER(This, name),
 * nothing unless the includer defines it (under `ilgraft run --trace` the host traces
 * every callback it delivers before the stub answers). */
"""


INFO_VERSIONS = ["ICorProfilerInfo"] + ["ICorProfilerInfo%d" % n for n in range(2, 16)]


def unsupported(root):
    """host/info_unsupported.def as {method: hresult}, in its order."""
    text = (root / "host/info_unsupported.def").read_text()
    return dict(re.findall(r"^INFO_UNSUPPORTED\((\w+), (\w+), ", text, re.M))


def info_answer(root, name, own):
    """An unimplemented Info method's answer and entry arguments: its HRESULT from
    info_unsupported.def and, for the trace, the version that introduced it."""
    table = unsupported(root)
    if name not in table:
        sys.exit("gen_stubs: ICorProfilerInfo::%s is neither implemented in host/info.c nor "
                 "listed in host/info_unsupported.def" % name)
    version = next(v for v in INFO_VERSIONS if name in slots_def(root)[v])
    return table[name], ', "%s", HOST_UNSUP_%s' % (version, name)


def host_stubs(root):
    out = [HOST_HEAD]
    parts = [("ILG__WANT_INFO_STUBS", "ICorProfilerInfo15",
              ["ICORPROFILERINFO%s_SLOTS" % ("" if n == 1 else n) for n in range(1, 16)],
              INFO_VERSIONS,
              "info_stub_", "ILG__INFO_STUB_ENTER", "ILG__INFO_STUB_SLOTS",
              root / "host/info.c", "info_vtbl"),
             ("ILG__WANT_MD_STUBS", "IMetaDataImport2",
              ["IMETADATAIMPORT_SLOTS", "IMETADATAIMPORT2_SLOTS"],
              ["IMetaDataImport", "IMetaDataImport2"], "md_stub_", "ILG__MD_STUB_ENTER",
              "ILG__MD_STUB_SLOTS", root / "host/mdimport.c", "md_vtbl"),
             ("ILG__WANT_MDA_STUBS", "IMetaDataAssemblyImport", ["IMETADATAASSEMBLYIMPORT_SLOTS"],
              ["IMetaDataAssemblyImport"], "mda_stub_", "ILG__MDA_STUB_ENTER",
              "ILG__MDA_STUB_SLOTS", root / "host/mdassembly.c", "mda_vtbl")]
    for guard, iface, macros, order, prefix, enter, macro, src, vtbl in parts:
        own = vtable_names(src, vtbl)
        stubs = [m for m in methods_of(root, iface, macros, order) if m[1] not in own]
        if guard == "ILG__WANT_INFO_STUBS":
            listed = set(unsupported(root))
            both = sorted(listed & own)
            if both:
                sys.exit("gen_stubs: implemented in host/info.c yet listed in "
                         "host/info_unsupported.def: %s" % ", ".join(both))
            stray = sorted(listed - {m[1] for m in stubs})
            if stray:
                sys.exit("gen_stubs: host/info_unsupported.def lists what is no Info "
                         "method: %s" % ", ".join(stray))
        out.append("\n#ifdef %s\n" % guard)
        texts = []
        for r, n, p in stubs:
            if guard == "ILG__WANT_INFO_STUBS":
                hr, extra = info_answer(root, n, own)
                texts.append(stub(iface, prefix, enter, r, n, p, hr, extra))
            else:
                texts.append(stub(iface, prefix, enter, r, n, p, answer_for(r, "E_NOTIMPL")))
        out.append("\n".join(texts))
        out.append("\n" + slots_macro(macro, prefix, [n for _r, n, _p in stubs]))
        out.append("#endif\n")
    return "".join(out)


def callback_stubs(root):
    iface = "ICorProfilerCallback3"
    methods = methods_of(root, iface, ["ICORPROFILERCALLBACK_SLOTS", "ICORPROFILERCALLBACK2_SLOTS",
                                       "ICORPROFILERCALLBACK3_SLOTS"],
                         ["ICorProfilerCallback", "ICorProfilerCallback2",
                          "ICorProfilerCallback3"])
    grouped = {n: g for g in CB3_GROUPS for n in g[2]}
    out = [CB_HEAD, "\n#ifndef ILG_CB3_STUB_ENTER\n"
                    "#define ILG_CB3_STUB_ENTER(This, name) ((void)0)\n#endif\n"]
    for guard, macro, names in CB3_GROUPS:
        group = [m for m in methods if m[1] in names]
        out.append("\n#ifndef %s\n" % guard)
        out.append("\n".join(stub(iface, "cb_", "ILG_CB3_STUB_ENTER", r, n, p, "S_OK")
                             for r, n, p in group))
        out.append("\n" + slots_macro(macro, "cb_", [m[1] for m in group]))
        out.append("#else\n#define %s\n#endif\n" % macro)
    rest = [m for m in methods if m[1] not in CB3_OWN and m[1] not in grouped]
    out.append("\n" + "\n".join(stub(iface, "cb_", "ILG_CB3_STUB_ENTER", r, n, p, "S_OK")
                                for r, n, p in rest))
    names = [m[1] for m in rest]
    out.append("\n" + slots_macro("ILG_CB3_STUB_SLOTS", "cb_", names)[:-1] + " \\\n")
    out.append("    %s \\\n    %s\n" % tuple(g[1] for g in CB3_GROUPS))
    return "".join(out)


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    root = Path(args[0] if args else Path(__file__).resolve().parent.parent)
    bad = 0
    for rel, make in (("host/stubs.inc", host_stubs),
                      ("profiler/callback_stubs.inc", callback_stubs)):
        text = make(root)
        path = root / rel
        if check:
            if not path.exists() or path.read_text() != text:
                print("gen_stubs: %s is not what scripts/gen_stubs.py generates; run it" % rel,
                      file=sys.stderr)
                bad = 1
            else:
                print("gen_stubs: %s is current (%d stubs)" % (rel, text.count("\n{\n")))
        else:
            path.write_text(text)
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
