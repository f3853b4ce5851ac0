/* prof_emit.c: the emit calls real rewriting profilers make, on the C# fixture Hello.dll,
 * the same under the harness host and under a real CoreCLR, each logged as one line
 * "emit: <step> hr=0x........ tok=0x........ [read-back]" so that a test can compare the
 * two logs line by line (issue 16, deliverable 6). At Hello's ModuleLoadFinished:
 *   - GetModuleMetaData(ofRead|ofWrite, IMetaDataImport2), QI IMetaDataEmit2 and
 *     IMetaDataAssemblyEmit; DefineAssemblyRef (ProbeLib 1.0.0.0);
 *   - TypeRefs by name in System.Console and System.Runtime (existing ones answer
 *     META_S_DUPLICATE), a new TypeRef, MemberRefs (Console.WriteLine(string), which
 *     Hello calls: a duplicate; Console.Write(string), new, then again: a duplicate);
 *   - a user string twice, a local signature twice (GetTokenFromSig);
 *   - a new type Emitted.Helper with a static method Say (RVA 0) whose body, set by
 *     SetILFunctionBody, writes the user string through the new Write MemberRef;
 *     a method Quiet (body: ret) defined on Hello.Program, a type the image had (the
 *     host threads it through MethodPtr);
 *   - Program.Answer rewritten to call Say first, so the program prints the string
 *     before "answer = 41".
 * Read-backs: GetTypeRefProps, GetMemberRefProps, GetTypeDefProps, GetMethodProps of
 * what was defined. Each definition is also logged as the profiler made it, "emit-def:
 * <kind> <token> ..." (names, scopes, parents, signatures as hex, user strings, bodies
 * as instructions, the RVA GetRVA answers), the expectation test_emit holds an
 * independent reader of the saved image to (tests/integration/md_read). PROF_EMIT_ONLY (a file-name substring, default "Hello.dll") picks
 * the module. PROF_EMIT_JIT: emit calls from the JIT threads; PROF_EMIT_RACE: reads
 * from the JIT threads while the profiler's own thread emits (see race_jit). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof_common.h"

#define EMIT_TEXT "emitted by prof_emit\n"
#define NAME_MAX_CHARS 256
/* ECMA-335 II.23.2: signatures and opcodes used below. */
#define SIG_DEFAULT 0x00
#define SIG_LOCALS 0x07
#define ET_VOID 0x01
#define ET_I4 0x08
#define ET_STRING 0x0E
#define ET_VALUETYPE 0x11
#define ET_SZARRAY 0x1D
#define OP_LDSTR 0x72
#define OP_CALL 0x28
#define OP_LDC_I4_S 0x1F
#define OP_RET 0x2A
#define TINY(code_size) ((uint8_t)(((code_size) << 2) | 2))
/* TypeDef flags: public abstract sealed (a static class); MethodDef: public static
 * hidebysig. */
#define HELPER_TYPE_FLAGS 0x00100181u
#define SAY_METHOD_FLAGS 0x0096u

typedef struct emit_ctx {
    ICorProfilerInfo3 *info;
    ModuleID mod;
    IMetaDataImport2 *imp;
    IMetaDataEmit2 *emit;
    IMetaDataAssemblyImport *aimp;
} emit_ctx;

static void to_wide(const char *s, WCHAR *w, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        w[i] = (WCHAR)(unsigned char)s[i];
    w[i] = 0;
}

static void to_narrow(const WCHAR *w, char *s, size_t cap)
{
    size_t i = 0;
    for (; w[i] && i + 1 < cap; i++)
        s[i] = w[i] < 0x80 ? (char)w[i] : '?';
    s[i] = 0;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A TypeDefOrRef coded index, compressed (II.23.2.8): its length in bytes. */
static ULONG compress_token(mdToken tok, uint8_t *out)
{
    /* The tag: TypeDef 0, TypeRef 1, TypeSpec 2. */
    uint32_t table = tok >> 24, tag = table == 0x02 ? 0 : table == 0x01 ? 1 : 2;
    uint32_t v = (tok & 0xFFFFFF) << 2 | tag;
    if (v < 0x80) {
        out[0] = (uint8_t)v;
        return 1;
    }
    if (v < 0x4000) {
        out[0] = (uint8_t)(0x80 | v >> 8);
        out[1] = (uint8_t)v;
        return 2;
    }
    out[0] = (uint8_t)(0xC0 | v >> 24);
    out[1] = (uint8_t)(v >> 16);
    out[2] = (uint8_t)(v >> 8);
    out[3] = (uint8_t)v;
    return 4;
}

/* hex of n bytes into out, at most cap bytes with the NUL (cut short, never past). */
static const char *hex(const uint8_t *p, size_t n, char *out, size_t cap)
{
    out[0] = 0;
    for (size_t i = 0; i < n && 2 * i + 3 <= cap; i++)
        snprintf(out + 2 * i, cap - 2 * i, "%02x", p[i]);
    return out;
}

/* s with backslash, quote and newline escaped, in quotes (as md_read prints strings). */
static const char *quoted(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    out[o++] = '"';
    for (; *s && o + 4 < cap; s++) {
        if (*s == '\\' || *s == '"' || *s == '\n')
            out[o++] = '\\';
        out[o++] = *s == '\n' ? 'n' : *s;
    }
    out[o++] = '"';
    out[o] = 0;
    return out;
}

/* The method as defined, and later its body and RVA, as "emit-def:" lines. */
static void log_method(mdMethodDef md, mdTypeDef owner, const char *name, const uint8_t *sig,
                       size_t len)
{
    char h[2 * 16 + 1];
    prof_log("emit-def: method 0x%08x owner=0x%08x name=%s flags=0x%x sig=%s", (unsigned)md,
             (unsigned)owner, name, SAY_METHOD_FLAGS,
             hex(sig, len < 16 ? len : 16, h, sizeof h));
}

/* body: its instructions as text ("ldstr ...; call 0x...; ret"), logged once SetILFunctionBody
 * took it; for a method defined here (RVA 0 before), the RVA GetRVA answers then, which is
 * its body's (the metadata keeps a rewritten method's old RVA until the module is saved). */
static void log_body(emit_ctx *c, mdMethodDef md, HRESULT set, const char *body, bool defined)
{
    ULONG rva = 0;
    if (set != S_OK)
        return;
    prof_log("emit-def: body 0x%08x %s", (unsigned)md, body);
    if (defined && c->imp->lpVtbl->GetRVA(c->imp, md, &rva, NULL) == S_OK)
        prof_log("emit-def: rva 0x%08x 0x%08x", (unsigned)md, (unsigned)rva);
}

static void step(const char *what, HRESULT hr, mdToken tok)
{
    prof_log("emit: %s hr=0x%08x tok=0x%08x", what, (unsigned)hr, (unsigned)tok);
}
/* The call first, then its line with the token it wrote. */
#define STEP(what, call, tok)                                                               \
    do {                                                                                   \
        HRESULT step_hr_ = (call);                                                         \
        step(what, step_hr_, tok);                                                         \
    } while (0)

/* The AssemblyRef called name, 0 when none. */
static mdAssemblyRef assembly_ref(emit_ctx *c, const char *name)
{
    HCORENUM e = NULL;
    mdAssemblyRef refs[64], found = 0;
    ULONG n = 0;
    if (c->aimp->lpVtbl->EnumAssemblyRefs(c->aimp, &e, refs, 64, &n) != S_OK)
        n = 0;
    for (ULONG i = 0; i < n && !found; i++) {
        WCHAR w[NAME_MAX_CHARS];
        char s[NAME_MAX_CHARS];
        ULONG cch = 0;
        if (c->aimp->lpVtbl->GetAssemblyRefProps(c->aimp, refs[i], NULL, NULL, w, NAME_MAX_CHARS,
                                                 &cch, NULL, NULL, NULL, NULL) != S_OK)
            continue;
        to_narrow(w, s, sizeof s);
        if (strcmp(s, name) == 0)
            found = refs[i];
    }
    c->aimp->lpVtbl->CloseEnum(c->aimp, e);
    return found;
}

static mdTypeRef type_ref(emit_ctx *c, const char *label, mdToken scope, const char *name)
{
    WCHAR w[NAME_MAX_CHARS], back[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    mdTypeRef tr = 0;
    mdToken back_scope = 0;
    ULONG cch = 0;
    to_wide(name, w, NAME_MAX_CHARS);
    HRESULT hr = c->emit->lpVtbl->DefineTypeRefByName(c->emit, scope, w, &tr);
    step(label, hr, tr);
    if (SUCCEEDED(hr))
        prof_log("emit-def: typeref 0x%08x scope=0x%08x name=%s", (unsigned)tr, (unsigned)scope,
                 name);
    HRESULT rb = c->imp->lpVtbl->GetTypeRefProps(c->imp, tr, &back_scope, back, NAME_MAX_CHARS, &cch);
    to_narrow(back, s, sizeof s);
    prof_log("emit: %s read-back hr=0x%08x scope=0x%08x name=%s", label, (unsigned)rb,
             (unsigned)back_scope, rb == S_OK ? s : "-");
    return tr;
}

static mdMemberRef member_ref(emit_ctx *c, const char *label, mdToken parent, const char *name,
                              const uint8_t *sig, ULONG len)
{
    WCHAR w[NAME_MAX_CHARS], back[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    mdMemberRef mr = 0;
    mdToken back_parent = 0;
    PCCOR_SIGNATURE bsig = NULL;
    ULONG cch = 0, blen = 0;
    to_wide(name, w, NAME_MAX_CHARS);
    HRESULT hr = c->emit->lpVtbl->DefineMemberRef(c->emit, parent, w, sig, len, &mr);
    step(label, hr, mr);
    char h[2 * 32 + 1];
    if (SUCCEEDED(hr) && len <= 32)
        prof_log("emit-def: memberref 0x%08x parent=0x%08x name=%s sig=%s", (unsigned)mr,
                 (unsigned)parent, name, hex(sig, len, h, sizeof h));
    HRESULT rb = c->imp->lpVtbl->GetMemberRefProps(c->imp, mr, &back_parent, back, NAME_MAX_CHARS,
                                                   &cch, &bsig, &blen);
    to_narrow(back, s, sizeof s);
    prof_log("emit: %s read-back hr=0x%08x parent=0x%08x name=%s sig=%s", label, (unsigned)rb,
             (unsigned)back_parent, rb == S_OK ? s : "-",
             rb == S_OK && blen == len && memcmp(bsig, sig, len) == 0 ? "same" : "differs");
    return mr;
}

/* Sets a tiny body of code_size bytes at code (through the module's allocator). */
static HRESULT set_body(emit_ctx *c, mdMethodDef md, const uint8_t *code, uint8_t code_size)
{
    IMethodMalloc *alloc = NULL;
    HRESULT hr = c->info->lpVtbl->GetILFunctionBodyAllocator(c->info, c->mod, &alloc);
    if (hr != S_OK || !alloc)
        return hr;
    uint8_t *p = alloc->lpVtbl->Alloc(alloc, (ULONG)code_size + 1);
    alloc->lpVtbl->Release(alloc);
    if (!p)
        return E_OUTOFMEMORY;
    p[0] = TINY(code_size);
    memcpy(p + 1, code, code_size);
    return c->info->lpVtbl->SetILFunctionBody(c->info, c->mod, md, p);
}

/* Bad arguments, with PROF_EMIT_BAD_ARGS only (the host's run): CoreCLR 10 answers S_OK
 * for a reference to a row that does not exist (writing a dangling row) and crashes on
 * a NULL name (docs/coreclr-observed.md); the host refuses each, never crashing. */
static void bad_args(emit_ctx *c, mdToken scope)
{
    static const uint8_t sig[] = { SIG_DEFAULT, 1, ET_VOID, ET_STRING };
    const uint32_t missing_rid = 0xFFF;
    WCHAR w[8];
    mdToken t = 0;
    HRESULT hr;
    if (!getenv("PROF_EMIT_BAD_ARGS"))
        return;
    to_wide("X.Y", w, 8);
    hr = c->emit->lpVtbl->DefineTypeRefByName(c->emit, TokenFromRid(missing_rid, mdtAssemblyRef),
                                              w, &t);
    prof_log("emit-args: typeref, missing scope hr=0x%08x", (unsigned)hr);
    hr = c->emit->lpVtbl->DefineTypeRefByName(c->emit, scope, NULL, &t);
    prof_log("emit-args: typeref, NULL name hr=0x%08x", (unsigned)hr);
    hr = c->emit->lpVtbl->DefineMemberRef(c->emit, TokenFromRid(missing_rid, mdtTypeRef), w, sig,
                                          sizeof sig, &t);
    prof_log("emit-args: memberref, missing parent hr=0x%08x", (unsigned)hr);
    hr = c->emit->lpVtbl->DefineMemberRef(c->emit, TokenFromRid(1, mdtFieldDef), w, sig,
                                          sizeof sig, &t);
    prof_log("emit-args: memberref, parent of a wrong table hr=0x%08x", (unsigned)hr);
    hr = c->emit->lpVtbl->DefineMethodSpec(c->emit, TokenFromRid(missing_rid, mdtMethodDef), sig,
                                           sizeof sig, &t);
    prof_log("emit-args: methodspec, missing method hr=0x%08x", (unsigned)hr);
    hr = c->emit->lpVtbl->GetTokenFromSig(c->emit, sig, sizeof sig, NULL);
    prof_log("emit-args: sig, NULL out hr=0x%08x", (unsigned)hr);
    /* The rest of IMetaDataEmit: a MethodImpl of methods that do not exist (RegMeta
     * writes it), marshalling for a method (RegMeta asserts), a signature to translate
     * from an object that is not the host's (RegMeta reaches into it). */
    hr = c->emit->lpVtbl->DefineMethodImpl(c->emit, TokenFromRid(1, mdtTypeDef),
                                           TokenFromRid(missing_rid, mdtMethodDef),
                                           TokenFromRid(missing_rid, mdtMethodDef));
    prof_check(hr == CLDB_E_RECORD_NOTFOUND, "DefineMethodImpl of missing methods: 0x%08x",
               (unsigned)hr);
    hr = c->emit->lpVtbl->SetFieldMarshal(c->emit, TokenFromRid(1, mdtMethodDef), sig, sizeof sig);
    prof_check(hr == E_INVALIDARG, "SetFieldMarshal of a method: 0x%08x", (unsigned)hr);
    uint8_t out[8];
    ULONG n = 0;
    IMetaDataImport fake = { NULL };
    hr = c->emit->lpVtbl->TranslateSigWithScope(c->emit, NULL, NULL, 0, &fake, sig, sizeof sig, NULL,
                                                (IMetaDataEmit *)c->emit, out, sizeof out, &n);
    prof_check(hr == E_NOINTERFACE, "TranslateSigWithScope from a foreign scope: 0x%08x",
               (unsigned)hr);
    /* A signature that ends inside a type, and one whose TypeDef does not exist: RegMeta
     * reads on past the blob or the table; the host refuses. */
    static const uint8_t cut[] = { SIG_DEFAULT, 1, ET_VOID, 0x12 }, gone[] = { SIG_DEFAULT, 1, ET_VOID,
                                                                             0x12, 0xBF, 0xFC };
    hr = c->emit->lpVtbl->TranslateSigWithScope(c->emit, NULL, NULL, 0, (IMetaDataImport *)c->imp, cut,
                                                sizeof cut, NULL, (IMetaDataEmit *)c->emit, out,
                                                sizeof out, &n);
    prof_check(hr == META_E_BAD_SIGNATURE, "TranslateSigWithScope of a cut signature: 0x%08x",
               (unsigned)hr);
    hr = c->emit->lpVtbl->TranslateSigWithScope(c->emit, NULL, NULL, 0, (IMetaDataImport *)c->imp, gone,
                                                sizeof gone, NULL, (IMetaDataEmit *)c->emit, out,
                                                sizeof out, &n);
    prof_check(hr == CLDB_E_RECORD_NOTFOUND, "TranslateSigWithScope of a missing TypeDef: 0x%08x",
               (unsigned)hr);
}

/* References, strings and signatures: the Write MemberRef and the user string. */
static void define_refs(emit_ctx *c, mdMemberRef *write, mdString *text, mdTypeRef *object)
{
    mdAssemblyRef console = assembly_ref(c, "System.Console");
    mdAssemblyRef runtime = assembly_ref(c, "System.Runtime");
    step("assemblyref System.Console", console ? S_OK : E_FAIL, console);
    step("assemblyref System.Runtime", runtime ? S_OK : E_FAIL, runtime);
    bad_args(c, console);
    mdTypeRef con = type_ref(c, "typeref System.Console", console, "System.Console");
    mdTypeRef color = type_ref(c, "typeref System.ConsoleColor", console, "System.ConsoleColor");
    type_ref(c, "typeref System.ConsoleColor again", console, "System.ConsoleColor");
    *object = type_ref(c, "typeref System.Object", runtime, "System.Object");
    static const uint8_t void_of_string[] = { SIG_DEFAULT, 1, ET_VOID, ET_STRING };
    member_ref(c, "memberref WriteLine", con, "WriteLine", void_of_string, sizeof void_of_string);
    *write = member_ref(c, "memberref Write", con, "Write", void_of_string, sizeof void_of_string);
    member_ref(c, "memberref Write again", con, "Write", void_of_string, sizeof void_of_string);
    WCHAR w[NAME_MAX_CHARS];
    to_wide(EMIT_TEXT, w, NAME_MAX_CHARS);
    ULONG len = (ULONG)strlen(EMIT_TEXT);
    mdString s2 = 0;
    STEP("userstring", c->emit->lpVtbl->DefineUserString(c->emit, w, len, text), *text);
    STEP("userstring again", c->emit->lpVtbl->DefineUserString(c->emit, w, len, &s2), s2);
    char q[2 * sizeof EMIT_TEXT + 3], h[16];
    prof_log("emit-def: userstring 0x%08x text=%s", (unsigned)*text,
             quoted(EMIT_TEXT, q, sizeof q));
    static const uint8_t locals[] = { SIG_LOCALS, 1, ET_I4 };
    mdSignature sig = 0;
    STEP("sig", c->emit->lpVtbl->GetTokenFromSig(c->emit, locals, sizeof locals, &sig), sig);
    STEP("sig again", c->emit->lpVtbl->GetTokenFromSig(c->emit, locals, sizeof locals, &sig), sig);
    prof_log("emit-def: standalonesig 0x%08x sig=%s", (unsigned)sig,
             hex(locals, sizeof locals, h, sizeof h));
    /* A TypeSpec (an SZARRAY of ConsoleColor's TypeRef) twice: New Relic's ReJIT path
     * asks for the same ones again and again (issue 17's run). */
    uint8_t spec[8] = { ET_SZARRAY, ET_VALUETYPE };
    ULONG spec_len = 2 + compress_token(color, spec + 2);
    mdTypeSpec ts = 0;
    STEP("typespec", c->emit->lpVtbl->GetTokenFromTypeSpec(c->emit, spec, spec_len, &ts), ts);
    STEP("typespec again", c->emit->lpVtbl->GetTokenFromTypeSpec(c->emit, spec, spec_len, &ts), ts);
}

/* The new type and method, refused and accepted, read back; Say's body. */
static mdMethodDef define_helper(emit_ctx *c, mdMemberRef write, mdString text, mdTypeRef object)
{
    WCHAR w[NAME_MAX_CHARS], back[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    mdTypeDef td = 0, program = 0;
    mdMethodDef say = 0, on_program = 0;
    to_wide("Emitted.Helper", w, NAME_MAX_CHARS);
    STEP("typedef", c->emit->lpVtbl->DefineTypeDef(c->emit, w, HELPER_TYPE_FLAGS, object, NULL, &td),
         td);
    prof_log("emit-def: typedef 0x%08x name=Emitted.Helper flags=0x%x extends=0x%08x", (unsigned)td,
             HELPER_TYPE_FLAGS, (unsigned)object);
    static const uint8_t void_void[] = { SIG_DEFAULT, 0, ET_VOID };
    to_wide("Say", w, NAME_MAX_CHARS);
    STEP("method", c->emit->lpVtbl->DefineMethod(c->emit, td, w, SAY_METHOD_FLAGS, void_void,
                                                 sizeof void_void, 0, 0, &say), say);
    log_method(say, td, "Say", void_void, sizeof void_void);
    to_wide("Hello.Program", back, NAME_MAX_CHARS);
    c->imp->lpVtbl->FindTypeDefByName(c->imp, back, 0, &program);
    to_wide("Quiet", w, NAME_MAX_CHARS);
    STEP("method on an existing type",
         c->emit->lpVtbl->DefineMethod(c->emit, program, w, SAY_METHOD_FLAGS, void_void,
                                       sizeof void_void, 0, 0, &on_program), on_program);
    log_method(on_program, program, "Quiet", void_void, sizeof void_void);
    /* The verifier's view of the MemberRef defined a moment ago (issue 16, deliverable
     * 3): Write(string) pops one argument, so a body calling it with nothing pushed is
     * refused by the host (CoreCLR takes any body here and fails at JIT time); the body
     * Quiet keeps is the next one. */
    uint8_t underflow[6] = { OP_CALL, 0, 0, 0, 0, OP_RET };
    put32(underflow + 1, write);
    HRESULT bad = set_body(c, on_program, underflow, sizeof underflow);
    prof_log("emit-verify: call Write with an empty stack hr=0x%08x", (unsigned)bad);
    static const uint8_t just_ret[] = { OP_RET };
    HRESULT set = set_body(c, on_program, just_ret, sizeof just_ret);
    step("quiet body", set, on_program);
    log_body(c, on_program, set, "ret", true);
    DWORD flags = 0;
    mdToken extends = 0;
    ULONG cch = 0, rva = 1;
    HRESULT rb = c->imp->lpVtbl->GetTypeDefProps(c->imp, td, back, NAME_MAX_CHARS, &cch, &flags,
                                                 &extends);
    to_narrow(back, s, sizeof s);
    prof_log("emit: typedef read-back hr=0x%08x name=%s flags=0x%x extends=0x%08x", (unsigned)rb,
             rb == S_OK ? s : "-", (unsigned)flags, (unsigned)extends);
    mdTypeDef owner = 0;
    rb = c->imp->lpVtbl->GetMethodProps(c->imp, say, &owner, back, NAME_MAX_CHARS, &cch, &flags,
                                        NULL, NULL, &rva, NULL);
    to_narrow(back, s, sizeof s);
    prof_log("emit: method read-back hr=0x%08x owner=0x%08x name=%s flags=0x%x rva=%s",
             (unsigned)rb, (unsigned)owner, rb == S_OK ? s : "-", (unsigned)flags,
             rva ? "set" : "0");
    uint8_t code[11] = { OP_LDSTR, 0, 0, 0, 0, OP_CALL, 0, 0, 0, 0, OP_RET };
    put32(code + 1, text);
    put32(code + 6, write);
    HRESULT set_say = set_body(c, say, code, sizeof code);
    step("say body", set_say, say);
    char body[128], q[2 * sizeof EMIT_TEXT + 3];
    snprintf(body, sizeof body, "ldstr %s; call 0x%08x; ret", quoted(EMIT_TEXT, q, sizeof q),
             (unsigned)write);
    log_body(c, say, set_say, body, true);
    rb = c->imp->lpVtbl->GetRVA(c->imp, say, &rva, NULL);
    prof_log("emit-rva: after its body hr=0x%08x rva=%s", (unsigned)rb, rva ? "set" : "0");
    return say;
}

static void rewrite_answer(emit_ctx *c, mdMethodDef say)
{
    WCHAR w[NAME_MAX_CHARS];
    mdTypeDef program = 0;
    mdMethodDef answer = 0;
    to_wide("Hello.Program", w, NAME_MAX_CHARS);
    c->imp->lpVtbl->FindTypeDefByName(c->imp, w, 0, &program);
    to_wide("Answer", w, NAME_MAX_CHARS);
    c->imp->lpVtbl->FindMethod(c->imp, program, w, NULL, 0, &answer);
    /* call Say; ldc.i4.s 41; ret */
    uint8_t code[8] = { OP_CALL, 0, 0, 0, 0, OP_LDC_I4_S, 41, OP_RET };
    put32(code + 1, say);
    HRESULT set = set_body(c, answer, code, sizeof code);
    step("answer body", set, answer);
    char body[64];
    snprintf(body, sizeof body, "call 0x%08x; ldc.i4.s 41; ret", (unsigned)say);
    log_body(c, answer, set, body, false);
}

/* PROF_EMIT_CLASS: the ClassID of the new TypeDef (GetClassFromToken at once; a new
 * generic one has none) and, at Say's JIT event, GetFunctionInfo2's class and
 * GetClassIDInfo2's TypeDef; "emit: class" lines, which test_emit compares with CoreCLR's
 * (IDs only as zero or not). */
static struct {
    ModuleID mod;
    mdMethodDef say;
} observed;

static void observe_class(emit_ctx *c, mdMethodDef say, mdTypeRef object)
{
    WCHAR w[NAME_MAX_CHARS];
    mdTypeDef td = 0;
    ClassID cls = 0;
    if (!getenv("PROF_EMIT_CLASS"))
        return;
    observed.mod = c->mod;
    observed.say = say;
    to_wide("Emitted.Helper", w, NAME_MAX_CHARS);
    c->imp->lpVtbl->FindTypeDefByName(c->imp, w, 0, &td);
    HRESULT hr = c->info->lpVtbl->GetClassFromToken(c->info, c->mod, td, &cls);
    prof_log("emit: class GetClassFromToken(0x%08x) hr=0x%08x class %s", (unsigned)td, (unsigned)hr,
             cls ? "nonzero" : "0");
    /* A new generic type: the token alone names no class. */
    mdTypeDef box = 0;
    mdGenericParam gp = 0;
    to_wide("Emitted.Box`1", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineTypeDef(c->emit, w, HELPER_TYPE_FLAGS, object, NULL, &box);
    to_wide("T", w, NAME_MAX_CHARS);
    hr = c->emit->lpVtbl->DefineGenericParam(c->emit, box, 0, 0, w, 0, NULL, &gp);
    cls = 0;
    HRESULT got = c->info->lpVtbl->GetClassFromToken(c->info, c->mod, box, &cls);
    prof_log("emit: class generic GetClassFromToken(0x%08x) hr=0x%08x (param hr=0x%08x) class %s",
             (unsigned)box, (unsigned)got, (unsigned)hr, cls ? "nonzero" : "0");
}

static void observe_jit(ICorProfilerInfo3 *info, FunctionID fid)
{
    ClassID cls = 0;
    ModuleID mod = 0;
    mdToken tok = 0, td = 0;
    ULONG32 n = 0;
    HRESULT hr = info->lpVtbl->GetFunctionInfo2(info, fid, 0, &cls, &mod, &tok, 0, &n, NULL);
    if (hr != S_OK || mod != observed.mod || tok != observed.say)
        return;
    prof_log("emit: class GetFunctionInfo2(Say) hr=0x%08x class %s", (unsigned)hr,
             cls ? "nonzero" : "0");
    if (cls) {
        hr = info->lpVtbl->GetClassIDInfo2(info, cls, &mod, &td, NULL, 0, &n, NULL);
        prof_log("emit: class GetClassIDInfo2 hr=0x%08x td=0x%08x", (unsigned)hr, (unsigned)td);
    }
}

/* The rest of IMetaDataEmit (issue 16): on a new class Emitted.Extra (never loaded, so
 * the program runs as before) that implements IDisposable through SetTypeDefProps and
 * a MethodImpl, a property with a getter and then a constant (SetPropertyProps), an
 * event with add and remove (SetEventProps), a named parameter (SetParamProps), a
 * literal field given its constant (SetFieldProps), a marshalled field
 * (SetFieldMarshal), a static field over existing bytes (SetFieldRVA), a P/Invoke
 * changed (SetPinvokeMap), a custom attribute's value changed; an explicit-layout
 * value type Emitted.Blob (SetClassLayout); Box`1's parameter renamed
 * (SetGenericParamProps); each read back through IMetaDataImport, and refusals RegMeta
 * answers without writing anything ("emit: more" lines, compared with CoreCLR's). */
#define MI_PRIVATE_IMPL 0x01E1u  /* private final virtual hidebysig newslot */
#define MI_PUBLIC_INST 0x0886u   /* public hidebysig specialname */
#define PINVOKE_FLAGS 0x2096u    /* public static hidebysig pinvokeimpl */
#define ET_VALUE_I4 0x08u
#define KEEP 0xFFFFFFFFu /* ULONG_MAX of the COM ABI: leave as it is */
#define ET_CLASS 0x12

static mdMethodDef more_method(emit_ctx *c, mdTypeDef td, const char *name, DWORD flags,
                               const uint8_t *sig, ULONG len, bool body)
{
    WCHAR w[NAME_MAX_CHARS];
    mdMethodDef md = 0;
    static const uint8_t just_ret[] = { OP_RET };
    to_wide(name, w, NAME_MAX_CHARS);
    HRESULT hr = c->emit->lpVtbl->DefineMethod(c->emit, td, w, flags, sig, len, 0, 0, &md);
    char label[96];
    snprintf(label, sizeof label, "more method %s", name);
    step(label, hr, md);
    if (body)
        set_body(c, md, just_ret, sizeof just_ret);
    return md;
}

static mdTypeRef runtime_ref(emit_ctx *c, const char *name)
{
    WCHAR w[NAME_MAX_CHARS];
    mdTypeRef tr = 0;
    to_wide(name, w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineTypeRefByName(c->emit, assembly_ref(c, "System.Runtime"), w, &tr);
    return tr;
}

/* Extra implements IDisposable: SetTypeDefProps, DefineMethodImpl, EnumMethodImpls. */
static void more_interface(emit_ctx *c, mdTypeDef extra)
{
    static const uint8_t inst_void[] = { 0x20, 0, ET_VOID };
    mdTypeRef disp = runtime_ref(c, "System.IDisposable");
    WCHAR w[NAME_MAX_CHARS];
    mdMemberRef decl = 0;
    to_wide("Dispose", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineMemberRef(c->emit, disp, w, inst_void, sizeof inst_void, &decl);
    mdToken ifaces[2] = { disp, mdTokenNil };
    STEP("more settypedefprops", c->emit->lpVtbl->SetTypeDefProps(c->emit, extra, KEEP, KEEP,
                                                                  ifaces), extra);
    if (getenv("PROF_EMIT_BAD_ARGS")) {
        /* A second list: RegMeta unlinks the first one's rows; the host cannot (E_NOTIMPL). */
        HRESULT no = c->emit->lpVtbl->SetTypeDefProps(c->emit, extra, KEEP, KEEP, ifaces);
        prof_check(no == E_NOTIMPL, "SetTypeDefProps, a second interface list: 0x%08x", (unsigned)no);
    }
    mdMethodDef body = more_method(c, extra, "System.IDisposable.Dispose", MI_PRIVATE_IMPL, inst_void,
                                   sizeof inst_void, true);
    STEP("more methodimpl", c->emit->lpVtbl->DefineMethodImpl(c->emit, extra, body, decl), body);
    HCORENUM e = NULL;
    mdToken bodies[4], decls[4], ii[4], cls = 0, iface = 0;
    ULONG n = 0, ni = 0;
    HRESULT hr = c->imp->lpVtbl->EnumMethodImpls(c->imp, &e, extra, bodies, decls, 4, &n);
    c->imp->lpVtbl->CloseEnum(c->imp, e);
    prof_log("emit: more methodimpls hr=0x%08x n=%u body=0x%08x decl=0x%08x", (unsigned)hr,
             (unsigned)n, n ? (unsigned)bodies[0] : 0u, n ? (unsigned)decls[0] : 0u);
    e = NULL;
    hr = c->imp->lpVtbl->EnumInterfaceImpls(c->imp, &e, extra, ii, 4, &ni);
    c->imp->lpVtbl->CloseEnum(c->imp, e);
    if (ni)
        c->imp->lpVtbl->GetInterfaceImplProps(c->imp, ii[0], &cls, &iface);
    prof_log("emit: more interfaceimpls hr=0x%08x n=%u class=0x%08x iface=0x%08x", (unsigned)hr,
             (unsigned)ni, (unsigned)cls, (unsigned)iface);
}

/* A constant's int32 value (-1 for none): the blob is not aligned. */
static int const_i4(UVCP_CONSTANT value, DWORD et)
{
    int v = -1;
    if (value && et == ET_VALUE_I4)
        memcpy(&v, value, sizeof v);
    return v;
}

static void read_property(emit_ctx *c, const char *label, mdProperty pr)
{
    WCHAR w[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    ULONG cch = 0, nsig = 0, cchv = 0, nother = 0;
    DWORD flags = 0, et = 0;
    PCCOR_SIGNATURE sig = NULL;
    UVCP_CONSTANT value = NULL;
    mdTypeDef owner = 0;
    mdMethodDef setter = 0, getter = 0, other[4];
    HRESULT hr = c->imp->lpVtbl->GetPropertyProps(c->imp, pr, &owner, w, NAME_MAX_CHARS, &cch, &flags,
                                                  &sig, &nsig, &et, &value, &cchv, &setter, &getter,
                                                  other, 4, &nother);
    to_narrow(w, s, sizeof s);
    prof_log("emit: %s hr=0x%08x owner=0x%08x %s flags=0x%x sig=%u et=0x%x value=%d get=0x%08x "
             "set=0x%08x others=%u", label, (unsigned)hr, (unsigned)owner, s, (unsigned)flags,
             (unsigned)nsig, (unsigned)et, const_i4(value, et),
             (unsigned)getter, (unsigned)setter, (unsigned)nother);
}

static void read_event(emit_ctx *c, const char *label, mdEvent ev)
{
    WCHAR w[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    ULONG cch = 0, nother = 0;
    DWORD flags = 0;
    mdToken type = 0, owner = 0;
    mdMethodDef add = 0, remove = 0, fire = 0, other[4];
    HRESULT hr = c->imp->lpVtbl->GetEventProps(c->imp, ev, &owner, w, NAME_MAX_CHARS, &cch, &flags,
                                               &type, &add, &remove, &fire, other, 4, &nother);
    to_narrow(w, s, sizeof s);
    prof_log("emit: %s hr=0x%08x owner=0x%08x %s flags=0x%x type=0x%08x add=0x%08x remove=0x%08x "
             "fire=0x%08x others=%u", label, (unsigned)hr, (unsigned)owner, s, (unsigned)flags,
             (unsigned)type, (unsigned)add, (unsigned)remove, (unsigned)fire, (unsigned)nother);
}

/* int Count { get; } = 7 as a constant later; event EventHandler Changed. */
static void more_members(emit_ctx *c, mdTypeDef extra)
{
    static const uint8_t get_sig[] = { 0x20, 0, ET_I4 }, prop_sig[] = { 0x28, 0, ET_I4 };
    WCHAR w[NAME_MAX_CHARS];
    mdProperty pr = 0;
    mdEvent ev = 0;
    mdMethodDef get = more_method(c, extra, "get_Count", MI_PUBLIC_INST, get_sig, sizeof get_sig, true);
    to_wide("Count", w, NAME_MAX_CHARS);
    STEP("more property", c->emit->lpVtbl->DefineProperty(c->emit, extra, w, 0, prop_sig, sizeof prop_sig,
                                                          ET_VOID, NULL, 0, mdMethodDefNil, get, NULL,
                                                          &pr), pr);
    read_property(c, "more property read-back", pr);
    int seven = 7;
    STEP("more setpropertyprops", c->emit->lpVtbl->SetPropertyProps(c->emit, pr, KEEP, ET_VALUE_I4,
                                                                    &seven, 0, KEEP, KEEP,
                                                                    NULL), pr);
    read_property(c, "more setpropertyprops read-back", pr);
    if (getenv("PROF_EMIT_BAD_ARGS")) {
        /* Removing the getter: RegMeta unlinks its row; the host cannot (COR_E_NOTSUPPORTED). */
        HRESULT no = c->emit->lpVtbl->SetPropertyProps(c->emit, pr, KEEP, ET_VOID, NULL, 0, KEEP,
                                                       mdMethodDefNil, NULL);
        prof_check(no == COR_E_NOTSUPPORTED, "SetPropertyProps without its getter: 0x%08x",
                   (unsigned)no);
    }
    mdTypeRef handler = runtime_ref(c, "System.EventHandler");
    uint8_t add_sig[8] = { 0x20, 1, ET_VOID, ET_CLASS };
    ULONG add_len = 4 + compress_token(handler, add_sig + 4);
    mdMethodDef add = more_method(c, extra, "add_Changed", MI_PUBLIC_INST, add_sig, add_len, true);
    mdMethodDef remove = more_method(c, extra, "remove_Changed", MI_PUBLIC_INST, add_sig, add_len, true);
    to_wide("Changed", w, NAME_MAX_CHARS);
    STEP("more event", c->emit->lpVtbl->DefineEvent(c->emit, extra, w, 0, handler, add, remove,
                                                    mdMethodDefNil, NULL, &ev), ev);
    read_event(c, "more event read-back", ev);
    STEP("more seteventprops", c->emit->lpVtbl->SetEventProps(c->emit, ev, 0x0200, mdTokenNil,
                                                              mdMethodDefNil, mdMethodDefNil,
                                                              mdMethodDefNil, NULL), ev);
    read_event(c, "more seteventprops read-back", ev);
    mdParamDef pd = 0;
    to_wide("h", w, NAME_MAX_CHARS);
    STEP("more param", c->emit->lpVtbl->DefineParam(c->emit, add, 1, w, 0, ET_VOID, NULL, 0, &pd), pd);
    to_wide("value", w, NAME_MAX_CHARS);
    STEP("more setparamprops", c->emit->lpVtbl->SetParamProps(c->emit, pd, w, 0x0001, ET_VOID, NULL,
                                                              0), pd);
    WCHAR back[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    ULONG seq = 0, cch = 0;
    DWORD flags = 0;
    mdMethodDef owner = 0;
    HRESULT hr = c->imp->lpVtbl->GetParamProps(c->imp, pd, &owner, &seq, back, NAME_MAX_CHARS, &cch,
                                               &flags, NULL, NULL, NULL);
    to_narrow(back, s, sizeof s);
    prof_log("emit: more param read-back hr=0x%08x method=0x%08x seq=%u %s flags=0x%x", (unsigned)hr,
             (unsigned)owner, (unsigned)seq, s, (unsigned)flags);
}

static void read_field(emit_ctx *c, const char *label, mdFieldDef fd)
{
    DWORD flags = 0, et = 0;
    UVCP_CONSTANT value = NULL;
    ULONG cchv = 0, rva = 0;
    HRESULT hr = c->imp->lpVtbl->GetFieldProps(c->imp, fd, NULL, NULL, 0, NULL, &flags, NULL, NULL,
                                               &et, &value, &cchv);
    HRESULT hr2 = c->imp->lpVtbl->GetRVA(c->imp, fd, &rva, NULL);
    prof_log("emit: %s hr=0x%08x flags=0x%x et=0x%x value=%d rva hr=0x%08x", label, (unsigned)hr,
             (unsigned)flags, (unsigned)et, const_i4(value, et),
             (unsigned)hr2);
}

/* Fields: a literal's constant, a marshalled one, one over existing bytes. */
static void more_fields(emit_ctx *c, mdTypeDef extra, ULONG bytes_rva)
{
    static const uint8_t i4[] = { 0x06, ET_I4 };
    static const uint8_t native_i4[] = { 0x07 }; /* NATIVE_TYPE_I4 */
    WCHAR w[NAME_MAX_CHARS];
    mdFieldDef limit = 0, data = 0, table = 0;
    to_wide("Limit", w, NAME_MAX_CHARS);
    STEP("more field", c->emit->lpVtbl->DefineField(c->emit, extra, w, 0x0056, i4, sizeof i4, ET_VOID,
                                                    NULL, 0, &limit), limit);
    int answer = 42;
    STEP("more setfieldprops", c->emit->lpVtbl->SetFieldProps(c->emit, limit, KEEP, ET_VALUE_I4,
                                                              &answer, 0), limit);
    read_field(c, "more setfieldprops read-back", limit);
    to_wide("data", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineField(c->emit, extra, w, 0x0006, i4, sizeof i4, ET_VOID, NULL, 0, &data);
    STEP("more setfieldmarshal", c->emit->lpVtbl->SetFieldMarshal(c->emit, data, native_i4,
                                                                  sizeof native_i4), data);
    PCCOR_SIGNATURE nt = NULL;
    ULONG nlen = 0;
    HRESULT hr = c->imp->lpVtbl->GetFieldMarshal(c->imp, data, &nt, &nlen);
    prof_log("emit: more fieldmarshal read-back hr=0x%08x len=%u first=0x%02x", (unsigned)hr,
             (unsigned)nlen, nlen ? nt[0] : 0u);
    read_field(c, "more marshalled field read-back", data);
    to_wide("table", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineField(c->emit, extra, w, 0x0016, i4, sizeof i4, ET_VOID, NULL, 0, &table);
    STEP("more setfieldrva", c->emit->lpVtbl->SetFieldRVA(c->emit, table, bytes_rva), table);
    ULONG rva = 0;
    hr = c->imp->lpVtbl->GetRVA(c->imp, table, &rva, NULL);
    prof_log("emit: more fieldrva read-back hr=0x%08x same=%s", (unsigned)hr,
             rva == bytes_rva ? "yes" : "no");
    read_field(c, "more rva field read-back", table);
}

/* Emitted.Blob: explicit layout, one int32 at offset 0, packing 1, size 4. */
static void more_layout(emit_ctx *c)
{
    static const uint8_t i4[] = { 0x06, ET_I4 };
    WCHAR w[NAME_MAX_CHARS];
    mdTypeDef blob = 0;
    mdFieldDef x = 0;
    to_wide("Emitted.Blob", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineTypeDef(c->emit, w, 0x00000111, runtime_ref(c, "System.ValueType"), NULL,
                                   &blob);
    to_wide("x", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineField(c->emit, blob, w, 0x0006, i4, sizeof i4, ET_VOID, NULL, 0, &x);
    COR_FIELD_OFFSET offs[2] = { { x, 0 }, { mdtFieldDef, 0 } };
    STEP("more setclasslayout", c->emit->lpVtbl->SetClassLayout(c->emit, blob, 1, offs, 4), blob);
    COR_FIELD_OFFSET back[4];
    DWORD pack = 0;
    ULONG n = 0, size = 0;
    HRESULT hr = c->imp->lpVtbl->GetClassLayout(c->imp, blob, &pack, back, 4, &n, &size);
    prof_log("emit: more classlayout read-back hr=0x%08x pack=%u fields=%u field=0x%08x offset=%u "
             "size=%u", (unsigned)hr, (unsigned)pack, (unsigned)n, n ? (unsigned)back[0].ridOfField : 0u,
             n ? (unsigned)back[0].ulOffset : 0u, (unsigned)size);
}

/* PROF_EMIT_TRANSLATE: TranslateSigWithScope between Hello and System.Private.CoreLib
 * (loaded first by both runtimes; the host run lists it first): CoreLib's types into
 * Hello (TypeRefs under a new AssemblyRef to CoreLib, its key as a token; a nested
 * type under its enclosing TypeRef; a generic instantiation), Hello's into Hello (the
 * tokens stay), Hello's into CoreLib (a TypeDef of Hello under an AssemblyRef "Hello",
 * Hello's TypeRefs under copies of its AssemblyRefs), a buffer too small; each
 * translated signature as hex and every token in it read back through the target's
 * IMetaDataImport ("emit: translate" lines). */
#define ET_VALUETYPE 0x11
#define ET_GENERICINST 0x15
#define ET_SZARRAY 0x1D
#define XSIG_MAX 64
static ModuleID corelib_mod;

/* The TypeRef tok of a scope, its resolution scope and, for an AssemblyRef, that. */
static void describe(const char *pre, const char *label, IMetaDataImport *imp,
                     IMetaDataAssemblyImport *aimp, mdToken tok)
{
    WCHAR w[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS], k[40];
    ULONG cch = 0;
    mdToken scope = 0;
    if (TypeFromToken(tok) != mdtTypeRef) {
        prof_log("%s: translate %s 0x%08x", pre, label, (unsigned)tok);
        return;
    }
    HRESULT hr = imp->lpVtbl->GetTypeRefProps(imp, tok, &scope, w, NAME_MAX_CHARS, &cch);
    to_narrow(w, s, sizeof s);
    prof_log("%s: translate %s 0x%08x hr=0x%08x %s scope=0x%08x", pre, label, (unsigned)tok,
             (unsigned)hr, s, (unsigned)scope);
    if (TypeFromToken(scope) == mdtTypeRef)
        describe(pre, label, imp, aimp, scope);
    if (TypeFromToken(scope) != mdtAssemblyRef)
        return;
    const void *key = NULL, *h = NULL;
    ULONG cb = 0, cbh = 0;
    DWORD flags = 0;
    ASSEMBLYMETADATA amd;
    memset(&amd, 0, sizeof amd);
    hr = aimp->lpVtbl->GetAssemblyRefProps(aimp, scope, &key, &cb, w, NAME_MAX_CHARS, &cch, &amd,
                                           &h, &cbh, &flags);
    to_narrow(w, s, sizeof s);
    hex(key, cb, k, sizeof k);
    prof_log("%s: translate %s assemblyref hr=0x%08x %s %u.%u.%u.%u key=%s flags=0x%x hash=%u",
             pre, label, (unsigned)hr, s, amd.usMajorVersion, amd.usMinorVersion, amd.usBuildNumber,
             amd.usRevisionNumber, k, (unsigned)flags, (unsigned)cbh);
}

/* Translates sig from the scope (aimp, imp) into (aemit, emit); logs the result and reads
 * each type token back through the target's (timp, taimp). */
static void translate_one(const char *pre, const char *label, IMetaDataEmit *emit, IMetaDataAssemblyEmit *aemit,
                          IMetaDataAssemblyImport *aimp, IMetaDataImport *imp,
                          IMetaDataImport *timp, IMetaDataAssemblyImport *taimp,
                          const uint8_t *sig, ULONG len, ULONG cap)
{
    uint8_t out[XSIG_MAX];
    char text[2 * XSIG_MAX + 1];
    ULONG n = 0;
    HRESULT hr = emit->lpVtbl->TranslateSigWithScope(emit, aimp, NULL, 0, imp, sig, len, aemit, emit,
                                                     out, cap, &n);
    hex(out, hr == S_OK ? n : 0, text, sizeof text);
    prof_log("%s: translate %s hr=0x%08x len=%u sig=%s", pre, label, (unsigned)hr, (unsigned)n, text);
    for (ULONG i = 0; hr == S_OK && i < n; i++)
        if (out[i] == ET_CLASS || out[i] == ET_VALUETYPE) {
            uint32_t v = out[i + 1];
            if (v & 0x80)
                v = (v & 0x3F) << 8 | out[++i + 1];
            static const mdToken tables[3] = { mdtTypeDef, mdtTypeRef, mdtTypeSpec };
            describe(pre, label, timp, taimp, tables[v & 3] | v >> 2);
            i++;
        }
}

static mdTypeDef find_type(IMetaDataImport *imp, const char *name, mdToken outer)
{
    WCHAR w[NAME_MAX_CHARS];
    mdTypeDef td = 0;
    to_wide(name, w, NAME_MAX_CHARS);
    imp->lpVtbl->FindTypeDefByName(imp, w, outer, &td);
    return td;
}

/* IMetaDataAssemblyEmit's rows (PROF_EMIT_TRANSLATE's run, which saves nothing: a File
 * naming a module that does not exist would not load): a File, an ExportedType and a
 * ManifestResource in it, ProbeLib's AssemblyRef given version 2.0.0.0, read back. */
static void assembly_rows(emit_ctx *c, IMetaDataAssemblyEmit *aemit)
{
    WCHAR w[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    ULONG cch = 0, cb = 0;
    DWORD flags = 0, offset = 0;
    const void *h = NULL;
    mdFile file = 0;
    mdExportedType et = 0;
    mdManifestResource mr = 0;
    mdToken impl = 0, td = 0;
    static const uint8_t hash[] = { 1, 2, 3 };
    to_wide("extra.netmodule", w, NAME_MAX_CHARS);
    STEP("assembly file", aemit->lpVtbl->DefineFile(aemit, w, hash, sizeof hash, 0, &file), file);
    HRESULT hr = c->aimp->lpVtbl->GetFileProps(c->aimp, file, w, NAME_MAX_CHARS, &cch, &h, &cb, &flags);
    to_narrow(w, s, sizeof s);
    prof_log("emit: assembly file read-back hr=0x%08x %s hash=%u flags=0x%x", (unsigned)hr, s,
             (unsigned)cb, (unsigned)flags);
    to_wide("Elsewhere.T", w, NAME_MAX_CHARS);
    STEP("assembly exportedtype", aemit->lpVtbl->DefineExportedType(aemit, w, file, 0x02000002, 1, &et),
         et);
    hr = c->aimp->lpVtbl->GetExportedTypeProps(c->aimp, et, w, NAME_MAX_CHARS, &cch, &impl, &td, &flags);
    to_narrow(w, s, sizeof s);
    prof_log("emit: assembly exportedtype read-back hr=0x%08x %s impl=0x%08x typedef=0x%08x "
             "flags=0x%x", (unsigned)hr, s, (unsigned)impl, (unsigned)td, (unsigned)flags);
    to_wide("probe.resources", w, NAME_MAX_CHARS);
    STEP("assembly resource", aemit->lpVtbl->DefineManifestResource(aemit, w, file, 16, 1, &mr), mr);
    hr = c->aimp->lpVtbl->GetManifestResourceProps(c->aimp, mr, w, NAME_MAX_CHARS, &cch, &impl, &offset,
                                                   &flags);
    to_narrow(w, s, sizeof s);
    prof_log("emit: assembly resource read-back hr=0x%08x %s impl=0x%08x offset=%u flags=0x%x",
             (unsigned)hr, s, (unsigned)impl, (unsigned)offset, (unsigned)flags);
    STEP("assembly setfileprops", aemit->lpVtbl->SetFileProps(aemit, file, NULL, 0, 1), file);
    STEP("assembly setexportedtypeprops", aemit->lpVtbl->SetExportedTypeProps(aemit, et, mdTokenNil,
                                                                              0x02000003, 2), et);
    STEP("assembly setmanifestresourceprops",
         aemit->lpVtbl->SetManifestResourceProps(aemit, mr, KEEP, 32, KEEP), mr);
    hr = c->aimp->lpVtbl->GetFileProps(c->aimp, file, w, NAME_MAX_CHARS, &cch, &h, &cb, &flags);
    prof_log("emit: assembly setfileprops read-back hr=0x%08x hash=%u flags=0x%x", (unsigned)hr,
             (unsigned)cb, (unsigned)flags);
    hr = c->aimp->lpVtbl->GetExportedTypeProps(c->aimp, et, w, NAME_MAX_CHARS, &cch, &impl, &td, &flags);
    prof_log("emit: assembly setexportedtypeprops read-back hr=0x%08x impl=0x%08x typedef=0x%08x "
             "flags=0x%x", (unsigned)hr, (unsigned)impl, (unsigned)td, (unsigned)flags);
    hr = c->aimp->lpVtbl->GetManifestResourceProps(c->aimp, mr, w, NAME_MAX_CHARS, &cch, &impl, &offset,
                                                   &flags);
    prof_log("emit: assembly setmanifestresourceprops read-back hr=0x%08x impl=0x%08x offset=%u "
             "flags=0x%x", (unsigned)hr, (unsigned)impl, (unsigned)offset, (unsigned)flags);
    ASSEMBLYMETADATA amd;
    memset(&amd, 0, sizeof amd);
    amd.usMajorVersion = 2;
    mdAssemblyRef ar = assembly_ref(c, "ProbeLib");
    STEP("assembly setassemblyrefprops", aemit->lpVtbl->SetAssemblyRefProps(aemit, ar, NULL, 0, NULL, &amd,
                                                                            NULL, 0, KEEP), ar);
    memset(&amd, 0, sizeof amd);
    hr = c->aimp->lpVtbl->GetAssemblyRefProps(c->aimp, ar, &h, &cb, w, NAME_MAX_CHARS, &cch, &amd, NULL,
                                              NULL, &flags);
    to_narrow(w, s, sizeof s);
    prof_log("emit: assembly assemblyref read-back hr=0x%08x %s %u.%u.%u.%u key=%u flags=0x%x",
             (unsigned)hr, s, amd.usMajorVersion, amd.usMinorVersion, amd.usBuildNumber,
             amd.usRevisionNumber, (unsigned)cb, (unsigned)flags);
}

/* DefineImportType (CoreLib's List`1, and Hello's own Program: a TypeRef under the
 * Module) and DefineImportMember (Environment.get_TickCount, twice). */
static void import_calls(emit_ctx *c, IMetaDataAssemblyEmit *aemit, IMetaDataAssemblyImport *caimp,
                         IMetaDataImport *cimp, mdTypeDef list, mdTypeDef env)
{
    static const uint8_t int_void[] = { SIG_DEFAULT, 0, ET_I4 };
    IMetaDataImport *himp = (IMetaDataImport *)c->imp;
    mdTypeRef tr = 0, env_ref = 0;
    STEP("import type", c->emit->lpVtbl->DefineImportType(c->emit, caimp, NULL, 0, cimp, list, aemit, &tr),
         tr);
    describe("emit", "import type", himp, c->aimp, tr);
    tr = 0;
    STEP("import own type", c->emit->lpVtbl->DefineImportType(c->emit, c->aimp, NULL, 0, himp,
                                                              find_type(himp, "Hello.Program", 0),
                                                              aemit, &tr), tr);
    describe("emit", "import own type", himp, c->aimp, tr);
    c->emit->lpVtbl->DefineImportType(c->emit, caimp, NULL, 0, cimp, env, aemit, &env_ref);
    WCHAR w[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS], text[2 * XSIG_MAX + 1];
    mdMethodDef tick = 0;
    to_wide("get_TickCount", w, NAME_MAX_CHARS);
    cimp->lpVtbl->FindMethod(cimp, env, w, int_void, sizeof int_void, &tick);
    for (int i = 0; i < 2; i++) {
        mdMemberRef mr = 0;
        mdToken parent = 0;
        PCCOR_SIGNATURE sig = NULL;
        ULONG cch = 0, len = 0;
        STEP(i ? "import member again" : "import member",
             c->emit->lpVtbl->DefineImportMember(c->emit, caimp, NULL, 0, cimp, tick, aemit, env_ref, &mr),
             mr);
        HRESULT hr = c->imp->lpVtbl->GetMemberRefProps(c->imp, mr, &parent, w, NAME_MAX_CHARS, &cch, &sig,
                                                       &len);
        to_narrow(w, s, sizeof s);
        hex(sig, hr == S_OK && len < XSIG_MAX ? len : 0, text, sizeof text);
        prof_log("emit: import member read-back hr=0x%08x parent=0x%08x %s sig=%s", (unsigned)hr,
                 (unsigned)parent, s, text);
    }
}

/* CoreLib's generic method, every kind of type a signature holds:
 * ref DayOfWeek f<T>(object[,], int32 modopt(IsVolatile), method void*(!!0),
 *                    <CoreLib's first TypeSpec>, int32*, !!0[]) */
static void every_kind(emit_ctx *c, IMetaDataAssemblyEmit *aemit, IMetaDataAssemblyImport *caimp,
                       IMetaDataImport *cimp, const mdToken types[4])
{
    IMetaDataImport *himp = (IMetaDataImport *)c->imp;
    IMetaDataEmit *hemit = (IMetaDataEmit *)c->emit;
    uint8_t sig[XSIG_MAX];
    size_t n;
    HCORENUM te = NULL;
    mdTypeSpec spec = 0;
    ULONG nspec = 0;
    cimp->lpVtbl->EnumTypeSpecs(cimp, &te, &spec, 1, &nspec);
    cimp->lpVtbl->CloseEnum(cimp, te);
    mdTypeDef volatile_td = find_type(cimp, "System.Runtime.CompilerServices.IsVolatile", 0);
    n = 0;
    sig[n++] = 0x10;           /* generic, default */
    sig[n++] = 1;
    sig[n++] = 6;
    sig[n++] = 0x10;           /* byref */
    sig[n++] = ET_VALUETYPE;
    n += compress_token(types[1], sig + n);
    sig[n++] = 0x14;           /* array object, rank 2, one size 3, one lower bound 0 */
    sig[n++] = ET_CLASS;
    n += compress_token(types[0], sig + n);
    sig[n++] = 2;
    sig[n++] = 1;
    sig[n++] = 3;
    sig[n++] = 1;
    sig[n++] = 0;
    sig[n++] = 0x20;           /* modopt */
    n += compress_token(volatile_td, sig + n);
    sig[n++] = ET_I4;
    sig[n++] = 0x1B;           /* method pointer void(!!0) */
    sig[n++] = SIG_DEFAULT;
    sig[n++] = 1;
    sig[n++] = ET_VOID;
    sig[n++] = 0x1E;
    sig[n++] = 0;
    sig[n++] = ET_CLASS;
    n += compress_token(nspec ? spec : types[0], sig + n);
    sig[n++] = 0x0F;           /* int32* */
    sig[n++] = ET_I4;
    sig[n++] = ET_SZARRAY;
    sig[n++] = 0x1E;
    sig[n++] = 0;
    translate_one("emit", "corelib->hello every kind", hemit, aemit, caimp, cimp, himp, c->aimp, sig,
                  (ULONG)n, XSIG_MAX);
    mdTypeSpec spec_out = 0;
    if (nspec) {
        /* the TypeSpec made in Hello for CoreLib's, and its blob */
        PCCOR_SIGNATURE blob = NULL;
        ULONG blen = 0;
        char text[2 * XSIG_MAX + 1];
        HCORENUM he = NULL;
        mdTypeSpec specs[64];
        ULONG hn = 0;
        himp->lpVtbl->EnumTypeSpecs(himp, &he, specs, 64, &hn);
        himp->lpVtbl->CloseEnum(himp, he);
        spec_out = hn ? specs[hn - 1] : 0;
        HRESULT hr2 = himp->lpVtbl->GetTypeSpecFromToken(himp, spec_out, &blob, &blen);
        hex(blob, hr2 == S_OK && blen < XSIG_MAX ? blen : 0, text, sizeof text);
        prof_log("emit: translate typespec 0x%08x hr=0x%08x %s", (unsigned)spec_out, (unsigned)hr2, text);
    }
}

static void translate(emit_ctx *c, IMetaDataAssemblyEmit *aemit, mdTypeRef object)
{
    IMetaDataImport *cimp = NULL;
    IMetaDataAssemblyImport *caimp = NULL;
    IMetaDataEmit *cemit = NULL;
    IMetaDataAssemblyEmit *caemit = NULL;
    if (!getenv("PROF_EMIT_TRANSLATE"))
        return;
    prof_check(corelib_mod != 0, "translate: no System.Private.CoreLib before Hello");
    HRESULT hr = c->info->lpVtbl->GetModuleMetaData(c->info, corelib_mod, ofRead | ofWrite,
                                                    &IID_IMetaDataImport, (IUnknown **)&cimp);
    prof_check(hr == S_OK && cimp, "translate: CoreLib's metadata 0x%08x", (unsigned)hr);
    if (!cimp)
        return;
    cimp->lpVtbl->QueryInterface(cimp, &IID_IMetaDataAssemblyImport, (void **)&caimp);
    cimp->lpVtbl->QueryInterface(cimp, &IID_IMetaDataEmit, (void **)&cemit);
    cimp->lpVtbl->QueryInterface(cimp, &IID_IMetaDataAssemblyEmit, (void **)&caemit);
    IMetaDataImport *himp = (IMetaDataImport *)c->imp;
    IMetaDataEmit *hemit = (IMetaDataEmit *)c->emit;
    /* CoreLib's: object f(DayOfWeek, Environment.SpecialFolder, List<int>) */
    mdTypeDef env = find_type(cimp, "System.Environment", 0);
    mdToken types[4] = { find_type(cimp, "System.Object", 0), find_type(cimp, "System.DayOfWeek", 0),
                         find_type(cimp, "SpecialFolder", env),
                         find_type(cimp, "System.Collections.Generic.List`1", 0) };
    uint8_t sig[XSIG_MAX];
    size_t n = 0;
    sig[n++] = SIG_DEFAULT;
    sig[n++] = 3;
    sig[n++] = ET_CLASS;
    n += compress_token(types[0], sig + n);
    sig[n++] = ET_VALUETYPE;
    n += compress_token(types[1], sig + n);
    sig[n++] = ET_VALUETYPE;
    n += compress_token(types[2], sig + n);
    sig[n++] = ET_GENERICINST;
    sig[n++] = ET_CLASS;
    n += compress_token(types[3], sig + n);
    sig[n++] = 1;
    sig[n++] = ET_I4;
    translate_one("emit", "corelib->hello", hemit, aemit, caimp, cimp, himp, c->aimp, sig, (ULONG)n,
                  XSIG_MAX);
    translate_one("emit", "corelib->hello again", hemit, aemit, caimp, cimp, himp, c->aimp, sig, (ULONG)n,
                  XSIG_MAX);
    translate_one("emit", "corelib->hello short", hemit, aemit, caimp, cimp, himp, c->aimp, sig, (ULONG)n,
                  4);
    every_kind(c, aemit, caimp, cimp, types);
    import_calls(c, aemit, caimp, cimp, types[3], env);
    /* Hello's: void f(Program, object[]) with its TypeDef and its System.Object TypeRef */
    n = 0;
    sig[n++] = SIG_DEFAULT;
    sig[n++] = 2;
    sig[n++] = ET_VOID;
    sig[n++] = ET_CLASS;
    n += compress_token(find_type(himp, "Hello.Program", 0), sig + n);
    sig[n++] = ET_SZARRAY;
    sig[n++] = ET_CLASS;
    n += compress_token(object, sig + n);
    translate_one("emit", "hello->hello", hemit, aemit, c->aimp, himp, himp, c->aimp, sig, (ULONG)n,
                  XSIG_MAX);
    /* Hello's into CoreLib, first without assembly scopes (one assembly: a ModuleRef to
     * Hello.dll, System.Runtime's AssemblyRef copied); then with them, where CoreCLR 10
     * makes a keyless assembly's AssemblyRef twice per call with 8 bytes of a heap
     * address as its key (docs/coreclr-observed.md): "emit-keyless" lines, which the
     * test does not compare. */
    if (cemit && caemit && caimp) {
        translate_one("emit", "hello->corelib no assembly scopes", cemit, NULL, NULL, himp, cimp,
                      caimp, sig, (ULONG)n, XSIG_MAX);
        translate_one("emit-keyless", "hello->corelib", cemit, caemit, c->aimp, himp, cimp, caimp,
                      sig, (ULONG)n, XSIG_MAX);
        translate_one("emit-keyless", "hello->corelib again", cemit, caemit, c->aimp, himp, cimp,
                      caimp, sig, (ULONG)n, XSIG_MAX);
    }
    assembly_rows(c, aemit);
    if (caemit)
        caemit->lpVtbl->Release(caemit);
    if (cemit)
        cemit->lpVtbl->Release(cemit);
    if (caimp)
        caimp->lpVtbl->Release(caimp);
    cimp->lpVtbl->Release(cimp);
}

/* A custom attribute's value changed, a P/Invoke changed, Box`1's parameter renamed,
 * and the refusals RegMeta answers without writing. */
static void more_misc(emit_ctx *c, mdTypeDef extra)
{
    static const uint8_t ctor_bool[] = { 0x20, 1, ET_VOID, 0x02 }, on[] = { 1, 0, 1, 0, 0 },
                         off[] = { 1, 0, 0, 0, 0 }, static_int[] = { 0, 0, ET_I4 };
    WCHAR w[NAME_MAX_CHARS];
    mdMemberRef ctor = 0;
    mdCustomAttribute ca = 0;
    to_wide(".ctor", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineMemberRef(c->emit, runtime_ref(c, "System.CLSCompliantAttribute"), w,
                                     ctor_bool, sizeof ctor_bool, &ctor);
    STEP("more customattribute", c->emit->lpVtbl->DefineCustomAttribute(c->emit, extra, ctor, on,
                                                                        sizeof on, &ca), ca);
    STEP("more setcustomattributevalue", c->emit->lpVtbl->SetCustomAttributeValue(c->emit, ca, off,
                                                                                  sizeof off), ca);
    const void *blob = NULL;
    ULONG len = 0;
    mdToken owner = 0, type = 0;
    HRESULT hr = c->imp->lpVtbl->GetCustomAttributeProps(c->imp, ca, &owner, &type, &blob, &len);
    prof_log("emit: more customattribute read-back hr=0x%08x owner=0x%08x type=0x%08x same=%s",
             (unsigned)hr, (unsigned)owner, (unsigned)type,
             len == sizeof off && memcmp(blob, off, len) == 0 ? "yes" : "no");
    mdModuleRef libc = 0;
    to_wide("libc", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineModuleRef(c->emit, w, &libc);
    mdMethodDef pid = more_method(c, extra, "getpid", PINVOKE_FLAGS, static_int, sizeof static_int, false);
    STEP("more setpinvokemap before any", c->emit->lpVtbl->SetPinvokeMap(c->emit, pid, 0x0100, w, libc),
         pid);
    c->emit->lpVtbl->DefinePinvokeMap(c->emit, pid, 0x0100, w, libc);
    to_wide("getppid", w, NAME_MAX_CHARS);
    STEP("more setpinvokemap", c->emit->lpVtbl->SetPinvokeMap(c->emit, pid, 0x0102, w, mdtModuleRef),
         pid);
    WCHAR back[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    DWORD flags = 0;
    ULONG cch = 0;
    mdModuleRef scope = 0;
    hr = c->imp->lpVtbl->GetPinvokeMap(c->imp, pid, &flags, back, NAME_MAX_CHARS, &cch, &scope);
    to_narrow(back, s, sizeof s);
    prof_log("emit: more pinvoke read-back hr=0x%08x flags=0x%x %s scope=0x%08x", (unsigned)hr,
             (unsigned)flags, s, (unsigned)scope);
    /* Box`1 (observe_class) and its parameter. */
    mdTypeDef box = find_type((IMetaDataImport *)c->imp, "Emitted.Box`1", 0);
    HCORENUM e = NULL;
    mdGenericParam gp[2];
    ULONG n = 0, seq = 0;
    c->imp->lpVtbl->EnumGenericParams(c->imp, &e, box, gp, 2, &n);
    c->imp->lpVtbl->CloseEnum(c->imp, e);
    to_wide("TItem", w, NAME_MAX_CHARS);
    STEP("more setgenericparamprops", n ? c->emit->lpVtbl->SetGenericParamProps(c->emit, gp[0], 0x0001,
                                                                                w, 0, NULL)
                                        : E_FAIL, n ? gp[0] : 0);
    DWORD reserved = 0;
    hr = n ? c->imp->lpVtbl->GetGenericParamProps(c->imp, gp[0], &seq, &flags, &owner, &reserved, back,
                                                   NAME_MAX_CHARS, &cch)
           : E_FAIL;
    to_narrow(back, s, sizeof s);
    prof_log("emit: more genericparam read-back hr=0x%08x seq=%u flags=0x%x owner=0x%08x %s",
             (unsigned)hr, (unsigned)seq, (unsigned)flags, (unsigned)owner, hr == S_OK ? s : "-");
    STEP("more setgenericparamprops reserved", n ? c->emit->lpVtbl->SetGenericParamProps(
                                                       c->emit, gp[0], KEEP, NULL, 1, NULL)
                                                 : E_FAIL, 0);
    STEP("more setgenericparamprops not a parameter",
         c->emit->lpVtbl->SetGenericParamProps(c->emit, extra, KEEP, NULL, 0, NULL), 0);
}

/* The scope's name (the file part of a path), a MemberRef's parent, declarative
 * security, the ENC calls outside ENC mode. */
static void more_scope(emit_ctx *c, mdTypeDef extra, mdTypeRef object)
{
    static const uint8_t void_void[] = { SIG_DEFAULT, 0, ET_VOID }, perm[] = { '.', 0 },
                         perm2[] = { '.', 0, 0 };
    WCHAR w[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    ULONG cch = 0;
    to_wide("/nowhere/Hello.dll", w, NAME_MAX_CHARS);
    STEP("more setmoduleprops", c->emit->lpVtbl->SetModuleProps(c->emit, w), 0);
    HRESULT hr = c->imp->lpVtbl->GetScopeProps(c->imp, w, NAME_MAX_CHARS, &cch, NULL);
    to_narrow(w, s, sizeof s);
    prof_log("emit: more scope read-back hr=0x%08x %s", (unsigned)hr, s);
    mdMemberRef mr = 0;
    mdToken parent = 0;
    to_wide("Beep", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineMemberRef(c->emit, object, w, void_void, sizeof void_void, &mr);
    /* Nil: CoreCLR 10 writes a nil TypeDef (the parent reads back 0x02000000), which is
     * not valid metadata; the host refuses (PROF_EMIT_BAD_ARGS, the host's run). */
    if (getenv("PROF_EMIT_BAD_ARGS")) {
        hr = c->emit->lpVtbl->SetParent(c->emit, mr, mdTokenNil);
        prof_check(hr == E_INVALIDARG, "SetParent(nil) = 0x%08x", (unsigned)hr);
    }
    STEP("more setparent", c->emit->lpVtbl->SetParent(c->emit, mr, object), mr);
    hr = c->imp->lpVtbl->GetMemberRefProps(c->imp, mr, &parent, NULL, 0, NULL, NULL, NULL);
    prof_log("emit: more setparent read-back hr=0x%08x parent=0x%08x", (unsigned)hr, (unsigned)parent);
    mdPermission pm = 0, pm2 = 0;
    STEP("more permissionset", c->emit->lpVtbl->DefinePermissionSet(c->emit, extra, 2, perm, sizeof perm,
                                                                    &pm), pm);
    STEP("more permissionset action 0", c->emit->lpVtbl->DefinePermissionSet(c->emit, extra, 0, perm,
                                                                             sizeof perm, &pm2), 0);
    STEP("more setpermissionsetprops", c->emit->lpVtbl->SetPermissionSetProps(c->emit, extra, 2, perm2,
                                                                              sizeof perm2, &pm2), pm2);
    DWORD action = 0, flags = 0;
    const void *blob = NULL;
    ULONG len = 0;
    hr = c->imp->lpVtbl->GetPermissionSetProps(c->imp, pm, &action, &blob, &len);
    c->imp->lpVtbl->GetTypeDefProps(c->imp, extra, NULL, 0, NULL, &flags, NULL);
    prof_log("emit: more permissionset read-back hr=0x%08x action=%u len=%u type flags=0x%x",
             (unsigned)hr, (unsigned)action, (unsigned)len, (unsigned)flags);
    DWORD size = 0;
    STEP("more getdeltasavesize", c->emit->lpVtbl->GetDeltaSaveSize(c->emit, cssAccurate, &size), 0);
    STEP("more resetenclog", c->emit->lpVtbl->ResetENCLog(c->emit), 0);
}

/* PROF_EMIT_PROBE (under dotnet, by hand; docs/coreclr-observed.md): what CoreCLR 10
 * answers for the methods the host keeps as stubs, with arguments that cannot hurt
 * ("probe:" lines, compared with nothing). The FEATURE_METADATA_EMIT_ALL methods are
 * called only when DeleteToken shows that feature is off. */
static void probe_stubs(emit_ctx *c, IMetaDataAssemblyEmit *aemit, mdTypeDef extra)
{
    if (!getenv("PROF_EMIT_PROBE"))
        return;
    IMetaDataEmit2 *e = c->emit;
    DWORD size = 0;
    HRESULT hr = e->lpVtbl->GetSaveSize(e, cssAccurate, &size);
    prof_log("probe: GetSaveSize hr=0x%08x size %s", (unsigned)hr, size ? "nonzero" : "0");
    hr = e->lpVtbl->GetDeltaSaveSize(e, cssAccurate, &size);
    prof_log("probe: GetDeltaSaveSize hr=0x%08x", (unsigned)hr);
    WCHAR w[NAME_MAX_CHARS];
    to_wide("/tmp/prof_emit_probe.md", w, NAME_MAX_CHARS);
    hr = e->lpVtbl->Save(e, w, 0);
    prof_log("probe: Save hr=0x%08x", (unsigned)hr);
    /* DeleteToken never returned under CoreCLR 10 (docs/coreclr-observed.md): not
     * called. The FEATURE_METADATA_EMIT_ALL methods: */
    static const uint8_t perm[] = { '.', 0 };
    mdPermission pm = 0;
    hr = e->lpVtbl->DefinePermissionSet(e, extra, 2, perm, sizeof perm, &pm);
    prof_log("probe: DefinePermissionSet hr=0x%08x", (unsigned)hr);
    if (hr == E_NOTIMPL) {
        hr = e->lpVtbl->DeleteClassLayout(e, extra);
        prof_log("probe: DeleteClassLayout hr=0x%08x", (unsigned)hr);
        hr = e->lpVtbl->ApplyEditAndContinue(e, NULL);
        prof_log("probe: ApplyEditAndContinue hr=0x%08x", (unsigned)hr);
        hr = e->lpVtbl->Merge(e, NULL, NULL, NULL);
        prof_log("probe: Merge hr=0x%08x", (unsigned)hr);
    }
    hr = e->lpVtbl->DefineSecurityAttributeSet(e, extra, NULL, 0, NULL);
    prof_log("probe: DefineSecurityAttributeSet hr=0x%08x", (unsigned)hr);
    hr = e->lpVtbl->ResetENCLog(e);
    prof_log("probe: ResetENCLog hr=0x%08x", (unsigned)hr);
    mdFile file = 0;
    to_wide("extra.netmodule", w, NAME_MAX_CHARS);
    hr = aemit->lpVtbl->DefineFile(aemit, w, NULL, 0, 0, &file);
    prof_log("probe: DefineFile hr=0x%08x tok=0x%08x", (unsigned)hr, (unsigned)file);
    mdExportedType et = 0;
    to_wide("Elsewhere.T", w, NAME_MAX_CHARS);
    hr = aemit->lpVtbl->DefineExportedType(aemit, w, file, 0x02000001, 1, &et);
    prof_log("probe: DefineExportedType hr=0x%08x tok=0x%08x", (unsigned)hr, (unsigned)et);
    mdManifestResource mr = 0;
    to_wide("probe.resources", w, NAME_MAX_CHARS);
    hr = aemit->lpVtbl->DefineManifestResource(aemit, w, file, 0, 1, &mr);
    prof_log("probe: DefineManifestResource hr=0x%08x tok=0x%08x", (unsigned)hr, (unsigned)mr);
    ASSEMBLYMETADATA amd;
    memset(&amd, 0, sizeof amd);
    amd.usMajorVersion = 2;
    mdAssemblyRef ar = assembly_ref(c, "ProbeLib");
    hr = aemit->lpVtbl->SetAssemblyRefProps(aemit, ar, NULL, 0, NULL, &amd, NULL, 0, KEEP);
    prof_log("probe: SetAssemblyRefProps hr=0x%08x", (unsigned)hr);
    hr = aemit->lpVtbl->SetAssemblyProps(aemit, TokenFromRid(1, mdtAssembly), NULL, 0, KEEP, NULL,
                                         NULL, KEEP);
    prof_log("probe: SetAssemblyProps hr=0x%08x", (unsigned)hr);
}

static void define_more(emit_ctx *c, IMetaDataAssemblyEmit *aemit, mdTypeRef object)
{
    WCHAR w[NAME_MAX_CHARS];
    mdTypeDef extra = 0, program = 0;
    mdMethodDef answer = 0;
    ULONG rva = 0;
    to_wide("Emitted.Extra", w, NAME_MAX_CHARS);
    STEP("more typedef", c->emit->lpVtbl->DefineTypeDef(c->emit, w, 0x00100001, object, NULL, &extra),
         extra);
    /* bytes for the RVA field: Program.Answer's body, which the file has */
    program = find_type((IMetaDataImport *)c->imp, "Hello.Program", 0);
    to_wide("Answer", w, NAME_MAX_CHARS);
    c->imp->lpVtbl->FindMethod(c->imp, program, w, NULL, 0, &answer);
    c->imp->lpVtbl->GetMethodProps(c->imp, answer, NULL, NULL, 0, NULL, NULL, NULL, NULL, &rva, NULL);
    more_interface(c, extra);
    more_members(c, extra);
    more_fields(c, extra, rva);
    more_layout(c);
    more_misc(c, extra);
    more_scope(c, extra, object);
    probe_stubs(c, aemit, extra);
}

static HRESULT em_module_loaded(ICorProfilerInfo3 *info, ModuleID mod)
{
    WCHAR wname[1024];
    char name[1024];
    ULONG cch = 0;
    const char *only = getenv("PROF_EMIT_ONLY");
    if (info->lpVtbl->GetModuleInfo(info, mod, NULL, 1024, &cch, wname, NULL) != S_OK)
        return S_OK;
    to_narrow(wname, name, sizeof name);
    if (strstr(name, "System.Private.CoreLib.dll"))
        corelib_mod = mod;
    if (!strstr(name, only && *only ? only : "Hello.dll"))
        return S_OK;
    emit_ctx c = { info, mod, NULL, NULL, NULL };
    IMetaDataAssemblyEmit *aemit = NULL;
    /* The read-only object (ofRead alone): does it answer the emit interfaces? */
    IMetaDataImport *ro = NULL;
    IUnknown *ro_emit = NULL;
    STEP("metadata ofRead", info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport,
                                                            (IUnknown **)&ro), 0);
    if (ro) {
        STEP("ofRead qi emit", ro->lpVtbl->QueryInterface(ro, &IID_IMetaDataEmit, (void **)&ro_emit),
             0);
        if (ro_emit)
            ro_emit->lpVtbl->Release(ro_emit);
        ro->lpVtbl->Release(ro);
    }
    HRESULT hr = info->lpVtbl->GetModuleMetaData(info, mod, ofRead | ofWrite, &IID_IMetaDataImport2,
                                                 (IUnknown **)&c.imp);
    step("metadata", hr, 0);
    prof_check(hr == S_OK && c.imp, "GetModuleMetaData(ofWrite) = 0x%08x", (unsigned)hr);
    if (hr != S_OK || !c.imp)
        return S_OK;
    STEP("qi emit2", c.imp->lpVtbl->QueryInterface(c.imp, &IID_IMetaDataEmit2, (void **)&c.emit), 0);
    STEP("qi assemblyimport", c.imp->lpVtbl->QueryInterface(c.imp, &IID_IMetaDataAssemblyImport,
                                                            (void **)&c.aimp), 0);
    STEP("qi assemblyemit", c.imp->lpVtbl->QueryInterface(c.imp, &IID_IMetaDataAssemblyEmit,
                                                          (void **)&aemit), 0);
    prof_check(c.emit && c.aimp && aemit, "an emit interface is missing");
    if (c.emit && c.aimp && aemit) {
        static const uint8_t token[8] = { 0xb0, 0x3f, 0x5f, 0x7f, 0x11, 0xd5, 0x0a, 0x3a };
        WCHAR w[NAME_MAX_CHARS];
        ASSEMBLYMETADATA amd;
        mdAssemblyRef ar = 0;
        memset(&amd, 0, sizeof amd);
        amd.usMajorVersion = 1;
        to_wide("ProbeLib", w, NAME_MAX_CHARS);
        STEP("define assemblyref", aemit->lpVtbl->DefineAssemblyRef(aemit, token, sizeof token, w,
                                                                    &amd, NULL, 0, 0, &ar), ar);
        char h[2 * sizeof token + 1];
        prof_log("emit-def: assemblyref 0x%08x name=ProbeLib version=%u.%u.%u.%u token=%s",
                 (unsigned)ar, amd.usMajorVersion, amd.usMinorVersion, amd.usBuildNumber,
                 amd.usRevisionNumber, hex(token, sizeof token, h, sizeof h));
        mdMemberRef write = 0;
        mdString text = 0;
        mdTypeRef object = 0;
        define_refs(&c, &write, &text, &object);
        mdMethodDef say = define_helper(&c, write, text, object);
        rewrite_answer(&c, say);
        observe_class(&c, say, object);
        if (getenv("PROF_EMIT_CLASS"))
            define_more(&c, aemit, object);
        translate(&c, aemit, object);
    }
    if (aemit)
        aemit->lpVtbl->Release(aemit);
    if (c.aimp)
        c.aimp->lpVtbl->Release(c.aimp);
    if (c.emit)
        c.emit->lpVtbl->Release(c.emit);
    c.imp->lpVtbl->Release(c.imp);
    return S_OK;
}

/* PROF_EMIT_RACE: from the first JIT event on, the profiler's own thread defines
 * TypeRefs, MemberRefs and user strings into the JIT'ed module until Shutdown, while
 * every JIT event (from the host's JIT threads) asks the Info methods that read the
 * module's metadata and reads the newest TypeRef back: each answer must agree with the
 * others (the metadata lock; under TSan, no race). */
#define RACE_MAX 20000u
static struct {
    pthread_mutex_t start_lock;
    pthread_t thread;
    bool started;
    ModuleID mod;
    IMetaDataEmit2 *emit;
    atomic_bool stop, running;
    atomic_uint defined, events, overlapped;
    atomic_uint last; /* (i << 8) | 1 once TypeRef i is defined; its token in last_tok */
    atomic_uint last_tok;
} race = { .start_lock = PTHREAD_MUTEX_INITIALIZER };

static void race_name(char *buf, size_t cap, const char *kind, unsigned i)
{
    snprintf(buf, cap, "Race.%s%u", kind, i);
}

static void *race_thread(void *arg)
{
    (void)arg;
    IMetaDataEmit2 *emit = race.emit;
    static const uint8_t void_void[] = { SIG_DEFAULT, 0, ET_VOID };
    for (unsigned i = 0; i < RACE_MAX && !atomic_load(&race.stop); i++) {
        char name[64];
        WCHAR w[64];
        mdTypeRef tr = 0;
        mdMemberRef mr = 0;
        mdString str = 0;
        race_name(name, sizeof name, "T", i);
        to_wide(name, w, 64);
        HRESULT hr = emit->lpVtbl->DefineTypeRefByName(emit, TokenFromRid(1, mdtAssemblyRef), w, &tr);
        prof_check(hr == S_OK, "race DefineTypeRefByName(%s) = 0x%08x", name, (unsigned)hr);
        atomic_store(&race.last_tok, tr);
        atomic_store(&race.last, i << 8 | 1);
        race_name(name, sizeof name, "M", i);
        to_wide(name, w, 64);
        hr = emit->lpVtbl->DefineMemberRef(emit, tr, w, void_void, sizeof void_void, &mr);
        prof_check(hr == S_OK, "race DefineMemberRef(%s) = 0x%08x", name, (unsigned)hr);
        hr = emit->lpVtbl->DefineUserString(emit, w, (ULONG)strlen(name), &str);
        prof_check(hr == S_OK, "race DefineUserString(%s) = 0x%08x", name, (unsigned)hr);
        atomic_fetch_add(&race.defined, 1);
    }
    atomic_store(&race.running, false);
    return NULL;
}

static void race_start(void)
{
    HRESULT hr = race.emit ? S_OK : E_FAIL;
    prof_check(hr == S_OK, "race: no emit interface");
    atomic_store(&race.running, true);
    if (hr == S_OK)
        race.started = pthread_create(&race.thread, NULL, race_thread, NULL) == 0;
    if (!race.started)
        atomic_store(&race.running, false);
    prof_check(race.started, "race: no thread");
}

/* The newest TypeRef the race thread defined, read back by name. */
static void race_read_back(IMetaDataImport2 *imp)
{
    unsigned last = atomic_load(&race.last);
    if (!last)
        return;
    mdTypeRef tr = atomic_load(&race.last_tok);
    unsigned i = last >> 8;
    WCHAR w[64];
    char got[64], want[64];
    ULONG cch = 0;
    mdToken scope = 0;
    HRESULT hr = imp->lpVtbl->GetTypeRefProps(imp, tr, &scope, w, 64, &cch);
    to_narrow(w, got, sizeof got);
    race_name(want, sizeof want, "T", i);
    /* last and last_tok are two stores: a newer TypeRef may be read under the older i. */
    prof_check(hr == S_OK && strncmp(got, "Race.T", 6) == 0 && strtoul(got + 6, NULL, 10) >= i,
               "race GetTypeRefProps(0x%08x) = 0x%08x %s, want %s or later", (unsigned)tr,
               (unsigned)hr, got, want);
}

static void race_info(ICorProfilerInfo3 *info, FunctionID fid, ModuleID mod, mdToken md)
{
    ClassID cls = 0, parent = 0, back = 0;
    ModuleID fmod = 0, cmod = 0, amod = 0;
    mdToken tok = 0, td = 0;
    AssemblyID asmid = 0;
    ULONG32 nargs = 0;
    WCHAR w[NAME_MAX_CHARS];
    ULONG cch = 0;
    HRESULT hr = info->lpVtbl->GetFunctionInfo2(info, fid, 0, &cls, &fmod, &tok, 0, &nargs, NULL);
    prof_check(hr == S_OK && fmod == mod && tok == md, "race GetFunctionInfo2 = 0x%08x",
               (unsigned)hr);
    if (cls) {
        hr = info->lpVtbl->GetClassIDInfo2(info, cls, &cmod, &td, &parent, 0, &nargs, NULL);
        prof_check(hr == S_OK && cmod == mod, "race GetClassIDInfo2 = 0x%08x", (unsigned)hr);
    }
    if (cls && !nargs) {
        hr = info->lpVtbl->GetClassFromToken(info, mod, td, &back);
        prof_check(hr == S_OK && back == cls, "race GetClassFromToken(0x%08x) = 0x%08x",
                   (unsigned)td, (unsigned)hr);
    }
    hr = info->lpVtbl->GetModuleInfo(info, mod, NULL, 0, NULL, NULL, &asmid);
    prof_check(hr == S_OK, "race GetModuleInfo = 0x%08x", (unsigned)hr);
    hr = info->lpVtbl->GetAssemblyInfo(info, asmid, NAME_MAX_CHARS, &cch, w, NULL, &amod);
    prof_check(hr == S_OK && amod == mod && cch > 1, "race GetAssemblyInfo = 0x%08x",
               (unsigned)hr);
    FunctionID again = 0;
    hr = info->lpVtbl->GetFunctionFromToken(info, mod, md, &again);
    prof_check((hr == S_OK && again == fid) || hr == CORPROF_E_FUNCTION_IS_PARAMETERIZED,
               "race GetFunctionFromToken(0x%08x) = 0x%08x", (unsigned)md, (unsigned)hr);
}

static void race_jit(ICorProfilerInfo3 *info, FunctionID fid)
{
    IMetaDataImport2 *imp = NULL;
    mdToken md = 0;
    ClassID cls = 0;
    ModuleID mod = 0;
    HRESULT hr = info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &md);
    prof_check(hr == S_OK, "race GetFunctionInfo = 0x%08x", (unsigned)hr);
    if (hr != S_OK)
        return;
    hr = info->lpVtbl->GetTokenAndMetaDataFromFunction(info, fid, &IID_IMetaDataImport2,
                                                       (IUnknown **)&imp, &md);
    prof_check(hr == S_OK && imp, "race GetTokenAndMetaDataFromFunction = 0x%08x", (unsigned)hr);
    if (!imp)
        return;
    /* The first event starts the thread on its method's module. */
    pthread_mutex_lock(&race.start_lock);
    if (!race.started) {
        race.mod = mod;
        imp->lpVtbl->QueryInterface(imp, &IID_IMetaDataEmit2, (void **)&race.emit);
        race_start();
    }
    ModuleID emitted = race.mod;
    pthread_mutex_unlock(&race.start_lock);
    /* The thread keeps pace (a row per event) so that the events overlap its writes
     * whatever the scheduler does. */
    while (atomic_load(&race.running) && atomic_load(&race.defined) <= atomic_load(&race.events))
        sched_yield();
    bool during = atomic_load(&race.running);
    race_info(info, fid, mod, md);
    if (mod == emitted)
        race_read_back(imp);
    WCHAR w[NAME_MAX_CHARS];
    ULONG cch = 0;
    hr = imp->lpVtbl->GetMethodProps(imp, md, NULL, w, NAME_MAX_CHARS, &cch, NULL, NULL, NULL, NULL,
                                     NULL);
    prof_check(SUCCEEDED(hr), "race GetMethodProps(0x%08x) = 0x%08x", md, (unsigned)hr);
    imp->lpVtbl->Release(imp);
    atomic_fetch_add(&race.events, 1);
    if (during && atomic_load(&race.running))
        atomic_fetch_add(&race.overlapped, 1);
}

static HRESULT em_shutdown(ICorProfilerInfo3 *info)
{
    (void)info;
    if (!race.started)
        return S_OK;
    atomic_store(&race.stop, true);
    pthread_join(race.thread, NULL);
    prof_log("race: defined %u, events %u, overlapped %u", atomic_load(&race.defined),
             atomic_load(&race.events), atomic_load(&race.overlapped));
    race.emit->lpVtbl->Release(race.emit);
    return S_OK;
}

/* PROF_EMIT_JIT: at every JIT event (from the host's JIT threads at once) the calls
 * clr-samples makes per method, through GetTokenAndMetaDataFromFunction: a local
 * signature of (rid % JIT_SIG_KINDS) + 1 int32s, a user string, a MemberRef, and a read
 * of the method; "emit-jit: sig K tok" lines let the test check that every thread got
 * the one token of each signature. */
#define JIT_SIG_KINDS 4u
static HRESULT em_jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    if (getenv("PROF_EMIT_RACE")) {
        race_jit(info, fid);
        return S_OK;
    }
    if (getenv("PROF_EMIT_CLASS")) {
        observe_jit(info, fid);
        return S_OK;
    }
    IMetaDataEmit2 *emit = NULL;
    mdToken md = 0, sig_tok = 0, str = 0, mr = 0;
    HRESULT hr = info->lpVtbl->GetTokenAndMetaDataFromFunction(info, fid, &IID_IMetaDataEmit2,
                                                               (IUnknown **)&emit, &md);
    prof_check(hr == S_OK && emit, "GetTokenAndMetaDataFromFunction(Emit2) = 0x%08x",
               (unsigned)hr);
    if (hr != S_OK || !emit)
        return S_OK;
    uint8_t sig[2 + JIT_SIG_KINDS] = { SIG_LOCALS, 0 };
    uint32_t kind = RidFromToken(md) % JIT_SIG_KINDS;
    sig[1] = (uint8_t)(kind + 1);
    for (uint32_t i = 0; i <= kind; i++)
        sig[2 + i] = ET_I4;
    hr = emit->lpVtbl->GetTokenFromSig(emit, sig, kind + 3, &sig_tok);
    prof_check(SUCCEEDED(hr), "GetTokenFromSig = 0x%08x", (unsigned)hr);
    prof_log("emit-jit: sig %u tok=0x%08x", (unsigned)kind, (unsigned)sig_tok);
    static const WCHAR text[] = { 'j', 'i', 't' };
    hr = emit->lpVtbl->DefineUserString(emit, text, 3, &str);
    prof_check(hr == S_OK, "DefineUserString = 0x%08x", (unsigned)hr);
    prof_log("emit-jit: string tok=0x%08x", (unsigned)str);
    static const uint8_t void_void[] = { SIG_DEFAULT, 0, ET_VOID };
    static const WCHAR name[] = { 'P', 'r', 'o', 'b', 'e', 0 };
    hr = emit->lpVtbl->DefineMemberRef(emit, TokenFromRid(1, mdtTypeRef), name, void_void,
                                       sizeof void_void, &mr);
    prof_check(SUCCEEDED(hr), "DefineMemberRef = 0x%08x", (unsigned)hr);
    prof_log("emit-jit: memberref tok=0x%08x", (unsigned)mr);
    IMetaDataImport2 *imp = NULL;
    if (emit->lpVtbl->QueryInterface(emit, &IID_IMetaDataImport2, (void **)&imp) == S_OK) {
        WCHAR w[NAME_MAX_CHARS];
        ULONG cch = 0;
        hr = imp->lpVtbl->GetMethodProps(imp, md, NULL, w, NAME_MAX_CHARS, &cch, NULL, NULL, NULL,
                                         NULL, NULL);
        prof_check(SUCCEEDED(hr), "GetMethodProps(0x%08x) = 0x%08x", md, (unsigned)hr);
        imp->lpVtbl->Release(imp);
    }
    emit->lpVtbl->Release(emit);
    return S_OK;
}

static HRESULT em_initialize(ICorProfilerInfo3 *info)
{
    if (getenv("PROF_EMIT_JIT") || getenv("PROF_EMIT_RACE")) {
        prof_log("jit mode"); /* opens the log before the JIT threads share it */
        HRESULT hr = info->lpVtbl->SetEventMask(info, COR_PRF_MONITOR_JIT_COMPILATION);
        prof_check(hr == S_OK, "SetEventMask returned 0x%08x", (unsigned)hr);
        return S_OK;
    }
    HRESULT hr = info->lpVtbl->SetEventMask(
        info, COR_PRF_MONITOR_MODULE_LOADS |
                  (getenv("PROF_EMIT_CLASS") ? COR_PRF_MONITOR_JIT_COMPILATION : 0));
    prof_check(hr == S_OK, "SetEventMask returned 0x%08x", (unsigned)hr);
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = em_initialize,
    .module_load_finished = em_module_loaded,
    .jit_started = em_jit_started,
    .shutdown = em_shutdown,
};
