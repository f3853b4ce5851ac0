/* abi_generics.c: the ABI probe's conformance calls about generic instantiations
 * (ILG_ABI_PROBE_CONFORM=1), made at JITCompilationStarted(Main): ClassIDs of CoreLib's
 * primitives, of instantiations of Hello's generic types (value type, reference type
 * and nested type arguments), their parents, the FunctionIDs of methods of
 * instantiations and of a generic method, and the error answers (wrong arity, a
 * TypeSpec token, a non-generic type with arguments). A ClassID is logged by what it
 * names, never by its value: "<module letter><TypeDef token>" with its type arguments
 * in angle brackets (h Hello, c CoreLib, o another module), so that the CONF lines of a
 * run under CoreCLR and under `ilgraft run` compare one by one. */
#include <stdio.h>
#include <string.h>

#include "abi_conform.h"
#include "ilgraft/cor_md.h"

#define DESCRIBE_DEPTH 4
#define MAX_ARGS 4

typedef struct gen_ctx {
    ICorProfilerInfo15 *info;
    ModuleID hello, corelib;
    IMetaDataImport *hello_md, *corelib_md;
} gen_ctx;

static IMetaDataImport *metadata_of(ICorProfilerInfo15 *info, ModuleID mod)
{
    IUnknown *unk = NULL;
    if (!mod || info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport, &unk) != S_OK)
        return NULL;
    return (IMetaDataImport *)unk;
}

static mdTypeDef find_type(IMetaDataImport *md, const char *name)
{
    WCHAR w[128];
    mdTypeDef td = 0;
    probe_wide(name, w, 128);
    return md && md->lpVtbl->FindTypeDefByName(md, w, 0, &td) == S_OK ? td : 0;
}

static mdMethodDef find_method(IMetaDataImport *md, mdTypeDef td, const char *name)
{
    WCHAR w[128];
    mdMethodDef mb = 0;
    probe_wide(name, w, 128);
    return md && md->lpVtbl->FindMethod(md, td, w, NULL, 0, &mb) == S_OK ? mb : 0;
}

/* What cls names, into out: "0" for none, "?<hr>" when GetClassIDInfo2 refuses it. */
static void describe(const gen_ctx *g, ClassID cls, int depth, char *out, size_t cap)
{
    ModuleID mod = 0;
    mdTypeDef td = 0;
    ClassID parent = 0, args[MAX_ARGS];
    ULONG32 n = 0;
    if (!cls) {
        snprintf(out, cap, "0");
        return;
    }
    HRESULT hr = g->info->lpVtbl->GetClassIDInfo2(g->info, cls, &mod, &td, &parent, MAX_ARGS, &n,
                                                  args);
    if (hr != S_OK) {
        snprintf(out, cap, "?%08X", (unsigned)hr);
        return;
    }
    size_t len = (size_t)snprintf(out, cap, "%c%08X",
                                  mod == g->hello ? 'h' : mod == g->corelib ? 'c' : 'o',
                                  (unsigned)td);
    for (ULONG32 i = 0; i < n && i < MAX_ARGS && len + 2 < cap && depth < DESCRIBE_DEPTH; i++) {
        out[len++] = i ? ',' : '<';
        describe(g, args[i], depth + 1, out + len, cap - len);
        len += strlen(out + len);
    }
    if (n && len + 2 < cap && depth < DESCRIBE_DEPTH)
        out[len++] = '>', out[len] = 0;
}

/* A class with its parent, as one CONF line. */
static void log_class(const gen_ctx *g, const char *what, HRESULT hr, ClassID cls)
{
    char self[256] = "", parent_text[256] = "";
    ClassID parent = 0;
    ULONG32 n = 0;
    if (hr == S_OK && cls) {
        describe(g, cls, 0, self, sizeof self);
        g->info->lpVtbl->GetClassIDInfo2(g->info, cls, NULL, NULL, &parent, 0, &n, NULL);
        describe(g, parent, 0, parent_text, sizeof parent_text);
    }
    probe_log("CONF %s hr=0x%08X class=%s parent=%s", what, (unsigned)hr, self, parent_text);
}

static ClassID class_from_token(const gen_ctx *g, const char *what, ModuleID mod, mdTypeDef td)
{
    ClassID cls = 0;
    HRESULT hr = g->info->lpVtbl->GetClassFromToken(g->info, mod, td, &cls);
    log_class(g, what, hr, cls);
    return hr == S_OK ? cls : 0;
}

static ClassID instantiate(const gen_ctx *g, const char *what, mdTypeDef td, ULONG32 n,
                           ClassID *args)
{
    ClassID cls = 0;
    HRESULT hr = g->info->lpVtbl->GetClassFromTokenAndTypeArgs(g->info, g->hello, td, n, args,
                                                               &cls);
    log_class(g, what, hr, cls);
    return hr == S_OK ? cls : 0;
}

/* GetFunctionFromTokenAndTypeArgs, then what GetFunctionInfo2 and GetFunctionInfo say of
 * the FunctionID. */
static void function(const gen_ctx *g, const char *what, mdMethodDef mb, ClassID cls,
                     ULONG32 n, ClassID *args)
{
    FunctionID fid = 0;
    ClassID fcls = 0, fargs[MAX_ARGS], v1cls = 0;
    ModuleID mod = 0;
    mdToken tok = 0;
    ULONG32 nargs = 0;
    char text[256] = "", v1text[256] = "", argtext[MAX_ARGS][128] = { "", "", "", "" };
    HRESULT hr = g->info->lpVtbl->GetFunctionFromTokenAndTypeArgs(g->info, g->hello, mb, cls, n,
                                                                  args, &fid);
    if (hr != S_OK) {
        probe_log("CONF GetFunctionFromTokenAndTypeArgs(%s) hr=0x%08X", what, (unsigned)hr);
        return;
    }
    HRESULT hi = g->info->lpVtbl->GetFunctionInfo2(g->info, fid, 0, &fcls, &mod, &tok, MAX_ARGS,
                                                   &nargs, fargs);
    describe(g, fcls, 0, text, sizeof text);
    for (ULONG32 i = 0; hi == S_OK && i < nargs && i < MAX_ARGS; i++)
        describe(g, fargs[i], 0, argtext[i], sizeof argtext[i]);
    HRESULT h1 = g->info->lpVtbl->GetFunctionInfo(g->info, fid, &v1cls, NULL, NULL);
    describe(g, v1cls, 0, v1text, sizeof v1text);
    probe_log("CONF GetFunctionFromTokenAndTypeArgs(%s) hr=0x%08X info2=0x%08X class=%s "
              "class_is_given=%d token=0x%08X type_args=%u [%s %s] info1=0x%08X class1=%s",
              what, (unsigned)hr, (unsigned)hi, text, fcls == cls, (unsigned)tok,
              (unsigned)nargs, argtext[0], argtext[1], (unsigned)h1, v1text);
}

/* The error answers of instantiation: wrong arity, a TypeSpec, a non-generic type. */
static void instantiation_errors(const gen_ctx *g, mdTypeDef box, mdTypeDef program,
                                 mdTypeDef intbox, ClassID i4)
{
    ClassID two[2] = { i4, i4 }, cls = 0;
    instantiate(g, "GetClassFromTokenAndTypeArgs(Box, 2 args)", box, 2, two);
    instantiate(g, "GetClassFromTokenAndTypeArgs(Box, no args)", box, 0, NULL);
    instantiate(g, "GetClassFromTokenAndTypeArgs(Program, no args)", program, 0, NULL);
    instantiate(g, "GetClassFromTokenAndTypeArgs(Program, 1 arg)", program, 1, two);
    mdToken extends = 0;
    DWORD flags = 0;
    ULONG len = 0;
    WCHAR name[64];
    g->hello_md->lpVtbl->GetTypeDefProps(g->hello_md, intbox, name, 64, &len, &flags, &extends);
    probe_log("CONF IntBox extends a TypeSpec=%d", TypeFromToken(extends) == mdtTypeSpec);
    instantiate(g, "GetClassFromTokenAndTypeArgs(TypeSpec Box<int>, no args)", extends, 0, NULL);
    instantiate(g, "GetClassFromTokenAndTypeArgs(TypeSpec Box<int>, 1 arg)", extends, 1, two);
    HRESULT hr = g->info->lpVtbl->GetClassFromToken(g->info, g->hello, box, &cls);
    probe_log("CONF GetClassFromToken(Box`1) hr=0x%08X", (unsigned)hr);
}

static void methods(const gen_ctx *g, mdTypeDef box, ClassID box_i4, ClassID box_str,
                    ClassID i4, ClassID str)
{
    mdMethodDef get = find_method(g->hello_md, box, "Get");
    mdTypeDef util = find_type(g->hello_md, "Hello.Util`1");
    mdMethodDef size = find_method(g->hello_md, util, "Size");
    probe_log("CONF generic methods found: Box.Get=%d Util.Size=%d", get != 0, size != 0);
    FunctionID fid = 0;
    HRESULT hr = g->info->lpVtbl->GetFunctionFromToken(g->info, g->hello, get, &fid);
    probe_log("CONF GetFunctionFromToken(Box.Get) hr=0x%08X", (unsigned)hr);
    function(g, "Box<int>.Get", get, box_i4, 0, NULL);
    function(g, "Box<string>.Get", get, box_str, 0, NULL);
    ClassID one[1] = { i4 }, util_i4 = instantiate(g, "GetClassFromTokenAndTypeArgs(Util<int>)",
                                                   util, 1, one);
    ClassID method_arg[1] = { str };
    function(g, "Util<int>.Size<string>", size, util_i4, 1, method_arg);
    method_arg[0] = i4;
    function(g, "Util<int>.Size<int>", size, util_i4, 1, method_arg);
    function(g, "Util<int>.Size, no method args", size, util_i4, 0, NULL);
    function(g, "Box.Get of Util<int>", get, util_i4, 0, NULL);
}

static void classes(const gen_ctx *g)
{
    ClassID i4 = class_from_token(g, "GetClassFromToken(System.Int32)", g->corelib,
                                  find_type(g->corelib_md, "System.Int32"));
    ClassID str = class_from_token(g, "GetClassFromToken(System.String)", g->corelib,
                                   find_type(g->corelib_md, "System.String"));
    class_from_token(g, "GetClassFromToken(System.Object)", g->corelib,
                     find_type(g->corelib_md, "System.Object"));
    mdTypeDef box = find_type(g->hello_md, "Hello.Box`1");
    mdTypeDef pair = find_type(g->hello_md, "Hello.Pair`2");
    mdTypeDef intbox = find_type(g->hello_md, "Hello.IntBox");
    mdTypeDef program = find_type(g->hello_md, "Hello.Program");
    ClassID one[1] = { i4 };
    ClassID box_i4 = instantiate(g, "GetClassFromTokenAndTypeArgs(Box<int>)", box, 1, one);
    ClassID again = 0;
    g->info->lpVtbl->GetClassFromTokenAndTypeArgs(g->info, g->hello, box, 1, one, &again);
    probe_log("CONF GetClassFromTokenAndTypeArgs(Box<int>) twice: same=%d", again == box_i4);
    one[0] = str;
    ClassID box_str = instantiate(g, "GetClassFromTokenAndTypeArgs(Box<string>)", box, 1, one);
    one[0] = box_i4;
    instantiate(g, "GetClassFromTokenAndTypeArgs(Box<Box<int>>)", box, 1, one);
    ClassID two[2] = { i4, str };
    ClassID pair_cls = instantiate(g, "GetClassFromTokenAndTypeArgs(Pair<int,string>)", pair, 2,
                                   two);
    ClassID intbox_cls = class_from_token(g, "GetClassFromToken(IntBox)", g->hello, intbox);
    ClassID parent = 0;
    g->info->lpVtbl->GetClassIDInfo2(g->info, intbox_cls, NULL, NULL, &parent, 0, NULL, NULL);
    probe_log("CONF IntBox's parent is Box<int>'s ClassID=%d", parent && parent == box_i4);
    ULONG32 n = 99;
    HRESULT hr = g->info->lpVtbl->GetClassIDInfo2(g->info, pair_cls, NULL, NULL, NULL, 0, &n, NULL);
    probe_log("CONF GetClassIDInfo2(Pair<int,string>, no room) hr=0x%08X count=%u", (unsigned)hr,
              (unsigned)n);
    ModuleID mod = 0;
    mdTypeDef td = 0;
    hr = g->info->lpVtbl->GetClassIDInfo(g->info, box_i4, &mod, &td);
    probe_log("CONF GetClassIDInfo(Box<int>) hr=0x%08X module_is_hello=%d token=0x%08X",
              (unsigned)hr, mod == g->hello, (unsigned)td);
    CorElementType elem = 0;
    ClassID base = 0;
    ULONG rank = 0;
    hr = g->info->lpVtbl->IsArrayClass(g->info, box_i4, &elem, &base, &rank);
    probe_log("CONF IsArrayClass(Box<int>) hr=0x%08X", (unsigned)hr);
    /* A boxed value type's data follows its method table pointer; a class has no box. */
    ULONG32 offset = 99;
    hr = g->info->lpVtbl->GetBoxClassLayout(g->info, i4, &offset);
    probe_log("CONF GetBoxClassLayout(Int32) hr=0x%08X offset=%u", (unsigned)hr, (unsigned)offset);
    offset = 99;
    hr = g->info->lpVtbl->GetBoxClassLayout(g->info, pair_cls, &offset);
    probe_log("CONF GetBoxClassLayout(Pair<int,string>) hr=0x%08X offset=%u", (unsigned)hr,
              (unsigned)offset);
    hr = g->info->lpVtbl->GetBoxClassLayout(g->info, box_i4, &offset);
    probe_log("CONF GetBoxClassLayout(Box<int>) hr=0x%08X", (unsigned)hr);
    instantiation_errors(g, box, program, intbox, i4);
    methods(g, box, box_i4, box_str, i4, str);
}

void conform_generics(ICorProfilerInfo15 *info, ModuleID hello, ModuleID corelib)
{
    gen_ctx g = { info, hello, corelib, metadata_of(info, hello), metadata_of(info, corelib) };
    probe_log("CONF generics: Hello's metadata=%d CoreLib's=%d", g.hello_md != NULL,
              g.corelib_md != NULL);
    if (g.hello_md && g.corelib_md)
        classes(&g);
    if (g.hello_md)
        g.hello_md->lpVtbl->Release(g.hello_md);
    if (g.corelib_md)
        g.corelib_md->lpVtbl->Release(g.corelib_md);
}
