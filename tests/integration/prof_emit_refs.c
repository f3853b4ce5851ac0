/* prof_emit_refs.c: prof_emit's references, strings and signatures (AssemblyRef,
 * TypeRefs, MemberRefs, a user string, a local signature) and the refused bad arguments. */
#include "prof_emit.h"

/* The AssemblyRef called name, 0 when none. */
mdAssemblyRef emit_assembly_ref(emit_ctx *c, const char *name)
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
    emit_step(label, hr, tr);
    if (SUCCEEDED(hr))
        prof_log("emit-def: typeref 0x%08x scope=0x%08x name=%s", (unsigned)tr, (unsigned)scope,
                 name);
    HRESULT rb =
        c->imp->lpVtbl->GetTypeRefProps(c->imp, tr, &back_scope, back, NAME_MAX_CHARS, &cch);
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
    emit_step(label, hr, mr);
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
    hr =
        c->emit->lpVtbl->TranslateSigWithScope(c->emit, NULL, NULL, 0, &fake, sig, sizeof sig, NULL,
                                               (IMetaDataEmit *)c->emit, out, sizeof out, &n);
    prof_check(hr == E_NOINTERFACE, "TranslateSigWithScope from a foreign scope: 0x%08x",
               (unsigned)hr);
    /* A signature that ends inside a type, and one whose TypeDef does not exist: RegMeta
     * reads on past the blob or the table; the host refuses. */
    static const uint8_t cut[] = { SIG_DEFAULT, 1, ET_VOID, 0x12 },
                         gone[] = { SIG_DEFAULT, 1, ET_VOID, 0x12, 0xBF, 0xFC };
    hr = c->emit->lpVtbl->TranslateSigWithScope(c->emit, NULL, NULL, 0, (IMetaDataImport *)c->imp,
                                                cut, sizeof cut, NULL, (IMetaDataEmit *)c->emit,
                                                out, sizeof out, &n);
    prof_check(hr == META_E_BAD_SIGNATURE, "TranslateSigWithScope of a cut signature: 0x%08x",
               (unsigned)hr);
    hr = c->emit->lpVtbl->TranslateSigWithScope(c->emit, NULL, NULL, 0, (IMetaDataImport *)c->imp,
                                                gone, sizeof gone, NULL, (IMetaDataEmit *)c->emit,
                                                out, sizeof out, &n);
    prof_check(hr == CLDB_E_RECORD_NOTFOUND, "TranslateSigWithScope of a missing TypeDef: 0x%08x",
               (unsigned)hr);
}

/* References, strings and signatures: the Write MemberRef and the user string. */
void emit_define_refs(emit_ctx *c, mdMemberRef *write, mdString *text, mdTypeRef *object)
{
    mdAssemblyRef console = emit_assembly_ref(c, "System.Console");
    mdAssemblyRef runtime = emit_assembly_ref(c, "System.Runtime");
    emit_step("assemblyref System.Console", console ? S_OK : E_FAIL, console);
    emit_step("assemblyref System.Runtime", runtime ? S_OK : E_FAIL, runtime);
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
