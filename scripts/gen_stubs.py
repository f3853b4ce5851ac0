#!/usr/bin/env python3
"""gen_stubs.py: writes the COM stub files from the ABI headers.

    scripts/gen_stubs.py [--check] [ROOT]
    scripts/gen_stubs.py --trace OUT [ROOT]     (the build's step for trace.inc)

host/stubs.inc: a stub for every ICorProfilerInfo1..15 and IMetaDataImport method the
harness host does not implement (every slot its vtable initialiser in host/info.c or
host/mdimport.c does not name), each opening with the host's entry macro, which traces
the call under --trace. An ICorProfilerInfo stub answers the HRESULT
host/info_unsupported.def gives it (CoreCLR's answer when the thing does not exist; a
slot neither implemented nor listed there fails this script) and names its index in
that list, by which the host counts the calls; an IMetaDataImport stub answers
E_NOTIMPL (FALSE for IsValidToken).
Each Info stub also gets its CoreCLR call rule from host/info_rules.def, which must list
every Info method once; an implemented method whose INFO_ENTRY names another rule than
that list fails this script.
profiler/callback_stubs.inc: S_OK for the ICorProfilerCallback3 slots a rewriting
profiler does not use.
trace.inc (written into the build tree by host/CMakeLists.txt, not kept in the source
tree): the --trace wrappers, a second vtable's worth per interface the host
hands out (each slot logs the arguments by type, calls the real method, logs the answer
and the out values), and a line-maker per callback (docs/profiler.md, "--trace").

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
    ("ILG_CB3_OWN_INLINING", "ILG__CB3_INLINING_SLOTS", {"JITInlining"}),
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
                      for h in ("corprof.h", "corprof_callbacks.h", "cor_md.h", "corprof_types.h"))
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


HOST_HEAD = """/* stubs.inc: generated by scripts/gen_stubs.py from corprof.h, cor_md.h,
 * corprof_slots.def and host/info_rules.def; do not edit (the stubs_generated test
 * regenerates and compares).
 *
 * A stub for every ICorProfilerInfo1..15, IMetaDataImport2, IMetaDataAssemblyImport,
 * IMetaDataEmit2 and IMetaDataAssemblyEmit method the harness host does not implement:
 * every slot that info_vtbl (info.c), md_vtbl (mdimport.c), mda_vtbl (mdassembly.c),
 * mde_vtbl or mdae_vtbl (mdemit.c) does not name. Each opens with the includer's
 * entry macro (ILG__INFO_STUB_ENTER, ILG__MD_STUB_ENTER, ILG__MDA_STUB_ENTER, _NORESULT
 * for a method without an HRESULT), which applies an Info stub's call rule (its
 * info_rules.def entry), notes the call for --trace and counts an Info stub's calls by
 * its HOST_UNSUP_ index; an Info stub then answers what
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
 * handles JITCachedFunctionSearchStarted/Finished ILG_CB3_OWN_CACHE_SEARCHES, one that
 * handles JITInlining ILG_CB3_OWN_INLINING, and names those slots in its own vtable.
 * Each stub opens with ILG_CB3_STUB_ENTER(This, name), nothing unless the includer
 * defines it (under `ilgraft run --trace` the host traces every callback it delivers
 * before the stub answers). */
"""


INFO_VERSIONS = ["ICorProfilerInfo"] + ["ICorProfilerInfo%d" % n for n in range(2, 16)]


def unsupported(root):
    """host/info_unsupported.def as {method: hresult}, in its order."""
    text = (root / "host/info_unsupported.def").read_text()
    return dict(re.findall(r"^INFO_UNSUPPORTED\((\w+), (\w+), ", text, re.M))


def info_rules(root):
    """host/info_rules.def as {method: rule}, checked to name every Info method once."""
    text = (root / "host/info_rules.def").read_text()
    pairs = re.findall(r"^INFO_RULE\((\w+), (\w+)\)", text, re.M)
    rules = dict(pairs)
    every = [m for v in INFO_VERSIONS for m in slots_def(root)[v]]
    if len(rules) != len(pairs) or sorted(rules) != sorted(every):
        sys.exit("gen_stubs: host/info_rules.def must list every ICorProfilerInfo method once")
    return rules


def check_entry_rules(root):
    """Each INFO_ENTRY of the implemented methods names the rule info_rules.def gives."""
    rules = info_rules(root)
    for src in sorted((root / "host").glob("*.c")):
        for name, rule in re.findall(r'INFO_ENTRY(?:_NORESULT)?\(This, "(\w+)", (\w+)\)',
                                     src.read_text()):
            if name in rules and rules[name] != rule:
                sys.exit("gen_stubs: %s: %s opens with rule %s, host/info_rules.def says %s"
                         % (src.relative_to(root), name, rule, rules[name]))


def info_answer(root, name, own):
    """An unimplemented Info method's answer and entry arguments: its HRESULT from
    info_unsupported.def, for the trace the version that introduced it, and its rule
    (info_rules.def)."""
    table = unsupported(root)
    if name not in table:
        sys.exit("gen_stubs: ICorProfilerInfo::%s is neither implemented in host/info.c nor "
                 "listed in host/info_unsupported.def" % name)
    version = next(v for v in INFO_VERSIONS if name in slots_def(root)[v])
    return table[name], ', "%s", HOST_UNSUP_%s, INFO_%s' % (version, name,
                                                         info_rules(root)[name])


def host_stubs(root):
    check_entry_rules(root)
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
              "ILG__MDA_STUB_SLOTS", root / "host/mdassembly.c", "mda_vtbl"),
             ("ILG__WANT_MDE_STUBS", "IMetaDataEmit2",
              ["IMETADATAEMIT_SLOTS", "IMETADATAEMIT2_SLOTS"], ["IMetaDataEmit", "IMetaDataEmit2"],
              "mde_stub_", "ILG__MDE_STUB_ENTER", "ILG__MDE_STUB_SLOTS",
              root / "host/mdemit.c", "mde_vtbl"),
             ("ILG__WANT_MDAE_STUBS", "IMetaDataAssemblyEmit", ["IMETADATAASSEMBLYEMIT_SLOTS"],
              ["IMetaDataAssemblyEmit"], "mdae_stub_", "ILG__MDAE_STUB_ENTER",
              "ILG__MDAE_STUB_SLOTS", root / "host/mdemit.c", "mdae_vtbl")]
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
    out.append("    " + " \\\n    ".join(g[1] for g in CB3_GROUPS) + "\n")
    return "".join(out)


# ---- host/trace.inc: the --trace wrappers ------------------------------------------------

TRACE_HEAD = """/* trace.inc: generated by scripts/gen_stubs.py from corprof.h, cor_md.h and
 * corprof_slots.def; do not edit (the stubs_generated test regenerates and compares).
 *
 * The --trace wrappers (docs/profiler.md, "--trace"). For each interface the host hands a
 * profiler (ICorProfilerInfo15, IMetaDataImport2, IMetaDataAssemblyImport, IMetaDataEmit2,
 * IMetaDataAssemblyEmit) a wrapper per
 * slot that logs the call's arguments, calls the method of the real vtable, and logs its
 * HRESULT and, on success, what it wrote through its out parameters: one line through
 * host/trace.c's helpers. The includer defines ILG__TRACE_HOST(This) (the ilg_host of the
 * object) and ILG__TRACE_REAL (its real vtable) and fills a second static const vtable
 * with ILG__INFO_TRACE_SLOTS / ILG__MD_TRACE_SLOTS / ILG__MDA_TRACE_SLOTS, which the host
 * hands out instead of the real one only under --trace. With ILG__WANT_CB_TRACE: a
 * line-maker per ICorProfilerCallback11 method, trace_cb_<name>(host, arguments...),
 * which host.c calls before delivering the callback. */
"""

# How an argument is printed, by its type (arguments of other types print as addresses).
TRACE_ID = {"ModuleID", "FunctionID", "ClassID", "ThreadID", "ObjectID", "AppDomainID",
            "AssemblyID", "ReJITID", "GCHandleID", "ObjectHandleID", "ContextID", "UINT_PTR",
            "ProcessID", "EVENTPIPE_SESSION", "EVENTPIPE_PROVIDER", "EVENTPIPE_EVENT",
            "COR_PRF_ELT_INFO", "COR_PRF_FRAME_INFO", "HCORENUM", "SIZE_T"}
TRACE_DEC = {"ULONG", "ULONG32", "UINT32", "UINT", "USHORT", "UINT8", "BOOL", "int", "UINT64",
             "COR_PRF_JIT_CACHE", "COR_PRF_SUSPEND_REASON", "COR_PRF_GC_REASON",
             "COR_PRF_TRANSITION_REASON", "COR_PRF_HANDLE_TYPE", "CorElementType",
             "COR_PRF_STATIC_TYPE", "COR_PRF_RUNTIME_TYPE"}
TRACE_HEX = {"DWORD"}
TRACE_WSTR_IN = {"LPCWSTR", "const WCHAR *"}
TRACE_GUID = {"REFIID", "REFGUID", "LPCGUID"}
TRACE_BY_VALUE = {"COR_PRF_EVENTPIPE_PROVIDER_CONFIG"}


def scalar_kind(t):
    if t in TRACE_ID:
        return "id"
    if t in TRACE_DEC:
        return "dec"
    if t in TRACE_HEX:
        return "hex"
    if t == "HRESULT":
        return "hr"
    if re.fullmatch(r"md\w+", t):
        return "tok"
    return None


def split_param(p):
    m = re.fullmatch(r"(.*?)\s*(\w+)(\[\])?", p)
    return " ".join(m.group(1).split()).replace(" *", " *").strip(), m.group(2), bool(m.group(3))


def scalar_call(kind, label, expr):
    cast = {"id": "(unsigned long long)", "dec": "(long long)", "hex": "(unsigned long long)",
            "tok": "(uint32_t)", "hr": "(HRESULT)"}[kind]
    return 'ilg__trace_%s(&tc, "%s", %s%s);' % (kind, label, cast, expr)


def trace_arg(params, i):
    """(statement before the call, statement after a successful call) for parameter i."""
    t, name, arr = split_param(params[i])
    if arr and t == "WCHAR" or t == "LPWSTR":
        # Bounded by the buffer's size and, when the method says how long the text is,
        # by that (a user string has no NUL).
        is_cch = lambda q: split_param(q)[0] == "ULONG" and split_param(q)[1].startswith("cch")
        cch = next((split_param(q)[1] for q in params[i + 1:i + 2] if is_cch(q)),
                   next((split_param(q)[1] for q in reversed(params[1:i]) if is_cch(q)), None))
        pch = next((split_param(q)[1] for q in params[i + 1:]
                    if split_param(q)[0] == "ULONG *" and split_param(q)[1].startswith("pc")), None)
        bound = cch or "0"
        if cch and pch:
            bound = "%s && *%s < %s ? *%s : %s" % (pch, pch, cch, pch, cch)
        return None, 'ilg__trace_wstr(&tc, "%s", %s, %s);' % (name, name, bound)
    if arr:
        return 'ilg__trace_ptr(&tc, "%s", (const void *)%s);' % (name, name), None
    kind = scalar_kind(t)
    if kind:
        return scalar_call(kind, name, name), None
    if t in TRACE_WSTR_IN:
        # A text with its length next to it (DefineUserString) need not end in a NUL.
        nxt = split_param(params[i + 1]) if i + 1 < len(params) else None
        if nxt and nxt[0] == "ULONG" and nxt[1].startswith("cch"):
            return ('ilg__trace_wstr(&tc, "%s", %s, %s < ILG__TRACE_TEXT_MAX ? %s : '
                    'ILG__TRACE_TEXT_MAX);' % (name, name, nxt[1], nxt[1])), None
        return 'ilg__trace_wstr(&tc, "%s", %s, ILG__TRACE_TEXT_MAX);' % (name, name), None
    if t in TRACE_GUID:
        return 'ilg__trace_guid(&tc, "%s", %s);' % (name, name), None
    if t in TRACE_BY_VALUE:
        return 'ilg__trace_text(&tc, "%s", "{...}");' % name, None
    if t.endswith("*") and not t.startswith("const "):
        inner = t[:-1].strip()
        kind = scalar_kind(inner)
        if kind:
            return None, "if (%s)\n            %s" % (name, scalar_call(kind, "*" + name, "*" + name))
        if re.fullmatch(r"ICorProfiler\w+Enum \*", inner):
            return None, ('if (%s) {\n            ilg__trace_ptr(&tc, "*%s", (const void *)*%s);\n'
                          '            ilg__trace_enum(ILG__TRACE_HOST(This), *%s);\n        }'
                          % (name, name, name, name))
        if inner == "MDUTF8CSTR":
            return None, 'if (%s)\n            ilg__trace_utf8(&tc, "*%s", *%s);' % (name, name, name)
        if inner.endswith("*") or inner in ("PCCOR_SIGNATURE", "LPCBYTE", "UVCP_CONSTANT"):
            return None, ('if (%s)\n            ilg__trace_ptr(&tc, "*%s", (const void *)*%s);'
                          % (name, name, name))
    return 'ilg__trace_ptr(&tc, "%s", (const void *)%s);' % (name, name), None


IUNKNOWN = [("HRESULT", "QueryInterface", ["{T} *This", "REFIID riid", "void **ppvObject"]),
            ("ULONG", "AddRef", ["{T} *This"]), ("ULONG", "Release", ["{T} *This"])]


def trace_wrapper(iface, label, prefix, ret, name, params):
    params = [p.replace("{T}", iface) for p in params]
    out = wrap_call("static %s %s%s" % (ret, prefix, name), params, "") + "\n{\n"
    out += "    ilg__trace_call tc;\n"
    out += wrap_call("    ilg__trace_begin", ["&tc", "ILG__TRACE_HOST(This)", '"%s"' % label,
                                               '"%s"' % name], ";") + "\n"
    before, after = [], []
    for i in range(1, len(params)):
        b, a = trace_arg(params, i)
        if b:
            before.append(b)
        if a:
            after.append(a)
    out += "".join("    %s\n" % b for b in before)
    names = ["This"] + [split_param(p)[1] for p in params[1:]]
    if ret == "void":
        out += wrap_call("    ILG__TRACE_REAL.%s" % name, names, ";") + "\n    ilg__trace_void(&tc);\n"
    else:
        out += wrap_call("    %s r = ILG__TRACE_REAL.%s" % (ret, name), names, ";") + "\n"
        out += ("    ilg__trace_hresult(&tc, r);\n" if ret == "HRESULT"
                else "    ilg__trace_result(&tc, (long long)r);\n")
    if after:
        out += "    if (%s) {\n" % ("SUCCEEDED(r)" if ret == "HRESULT" else "1")
        out += "".join("        %s\n" % a for a in after)
        out += "    }\n"
    out += "    ilg__trace_end(&tc);\n"
    out += "    return r;\n}\n" if ret != "void" else "}\n"
    return out


def cb_tracer(iface, ret, name, params):
    params = [p.replace("{T}", iface) for p in params]
    head = ["ilg_host *h"] + params[1:]
    out = wrap_call("static inline void trace_cb_%s" % name, head, "") + "\n{\n"
    out += "    ilg__trace_call tc;\n"
    out += '    ilg__trace_begin(&tc, h, NULL, "%s");\n' % name
    for i in range(1, len(params)):
        b, a = trace_arg(params, i)
        if b:
            out += "    %s\n" % b
        elif a:  # a callback's out parameter: its address
            out += '    ilg__trace_ptr(&tc, "%s", (const void *)%s);\n' % (
                split_param(params[i])[1], split_param(params[i])[1])
    out += "    ilg__trace_open(&tc);\n    ilg__trace_end(&tc);\n}\n"
    return out


def trace_inc(root):
    out = [TRACE_HEAD]
    info_label = {m: v for v in INFO_VERSIONS for m in slots_def(root)[v]}
    parts = [("ILG__WANT_INFO_TRACE", "ICorProfilerInfo15",
              ["ICORPROFILERINFO%s_SLOTS" % ("" if n == 1 else n) for n in range(1, 16)],
              INFO_VERSIONS, "trace_info_", "ILG__INFO_TRACE_SLOTS", lambda n: info_label[n]),
             ("ILG__WANT_MD_TRACE", "IMetaDataImport2",
              ["IMETADATAIMPORT_SLOTS", "IMETADATAIMPORT2_SLOTS"],
              ["IMetaDataImport", "IMetaDataImport2"], "trace_md_", "ILG__MD_TRACE_SLOTS",
              lambda n: "IMetaDataImport"),
             ("ILG__WANT_MDA_TRACE", "IMetaDataAssemblyImport", ["IMETADATAASSEMBLYIMPORT_SLOTS"],
              ["IMetaDataAssemblyImport"], "trace_mda_", "ILG__MDA_TRACE_SLOTS",
              lambda n: "IMetaDataAssemblyImport"),
             ("ILG__WANT_MDE_TRACE", "IMetaDataEmit2", ["IMETADATAEMIT_SLOTS", "IMETADATAEMIT2_SLOTS"],
              ["IMetaDataEmit", "IMetaDataEmit2"], "trace_mde_", "ILG__MDE_TRACE_SLOTS",
              lambda n: "IMetaDataEmit2" if n in slots_def(root)["IMetaDataEmit2"]
              else "IMetaDataEmit"),
             ("ILG__WANT_MDAE_TRACE", "IMetaDataAssemblyEmit", ["IMETADATAASSEMBLYEMIT_SLOTS"],
              ["IMetaDataAssemblyEmit"], "trace_mdae_", "ILG__MDAE_TRACE_SLOTS",
              lambda n: "IMetaDataAssemblyEmit"),
             ("ILG__WANT_FC_TRACE", "ICorProfilerFunctionControl",
              ["ICORPROFILERFUNCTIONCONTROL_SLOTS"], ["ICorProfilerFunctionControl"], "trace_fc_",
              "ILG__FC_TRACE_SLOTS", lambda n: "ICorProfilerFunctionControl")]
    for guard, iface, macros, order, prefix, macro, label in parts:
        methods = IUNKNOWN + methods_of(root, iface, macros, order)
        out.append("\n#ifdef %s\n" % guard)
        out.append("\n".join(trace_wrapper(iface, label(n) if n not in ("QueryInterface", "AddRef",
                                                                           "Release")
                                           else order[0], prefix, r, n, p)
                             for r, n, p in methods))
        out.append("\n" + slots_macro(macro, prefix, [m[1] for m in methods]))
        out.append("#endif\n")
    # Every callback through Callback11: the host delivers LoadAsNotificationOnly too.
    cb = methods_of(root, "ICorProfilerCallback11",
                    ["ICORPROFILERCALLBACK%s_SLOTS" % ("" if n == 1 else n) for n in range(1, 12)],
                    ["ICorProfilerCallback" + ("" if n == 1 else str(n)) for n in range(1, 12)])
    out.append("\n#ifdef ILG__WANT_CB_TRACE\n")
    out.append("\n".join(cb_tracer("ICorProfilerCallback11", r, n, p) for r, n, p in cb))
    out.append("#endif\n")
    return "".join(out)


def main(argv):
    if argv[:1] == ["--trace"]:
        # The build writes trace.inc (284 KB, not kept in the tree) from the headers.
        root = Path(argv[2]) if len(argv) > 2 else Path(__file__).resolve().parent.parent
        text = trace_inc(root)
        out = Path(argv[1])
        if not out.exists() or out.read_text() != text:
            out.write_text(text)
        return 0
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
