/* prof_emit_translate.c: prof_emit's TranslateSigWithScope run (PROF_EMIT_TRANSLATE),
 * DefineImportType and IMetaDataAssemblyEmit's rows. */
#include "prof_emit.h"

/* PROF_EMIT_TRANSLATE: TranslateSigWithScope between Hello and System.Private.CoreLib
 * (loaded first by both runtimes; the host run lists it first): CoreLib's types into
 * Hello (TypeRefs under a new AssemblyRef to CoreLib, its key as a token; a nested
 * type under its enclosing TypeRef; a generic instantiation), Hello's into Hello (the
 * tokens stay), Hello's into CoreLib (a TypeDef of Hello under an AssemblyRef "Hello",
 * Hello's TypeRefs under copies of its AssemblyRefs), a buffer too small; each
 * translated signature as hex and every token in it read back through the target's
 * IMetaDataImport ("emit: translate" lines). */
#define ET_GENERICINST 0x15
#define XSIG_MAX 64
ModuleID emit_corelib_mod;

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
static void translate_one(const char *pre, const char *label, IMetaDataEmit *emit,
                          IMetaDataAssemblyEmit *aemit, IMetaDataAssemblyImport *aimp,
                          IMetaDataImport *imp, IMetaDataImport *timp,
                          IMetaDataAssemblyImport *taimp, const uint8_t *sig, ULONG len, ULONG cap)
{
    uint8_t out[XSIG_MAX];
    char text[2 * XSIG_MAX + 1];
    ULONG n = 0;
    HRESULT hr = emit->lpVtbl->TranslateSigWithScope(emit, aimp, NULL, 0, imp, sig, len, aemit,
                                                     emit, out, cap, &n);
    hex(out, hr == S_OK ? n : 0, text, sizeof text);
    prof_log("%s: translate %s hr=0x%08x len=%u sig=%s", pre, label, (unsigned)hr, (unsigned)n,
             text);
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

mdTypeDef emit_find_type(IMetaDataImport *imp, const char *name, mdToken outer)
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
    HRESULT hr =
        c->aimp->lpVtbl->GetFileProps(c->aimp, file, w, NAME_MAX_CHARS, &cch, &h, &cb, &flags);
    to_narrow(w, s, sizeof s);
    prof_log("emit: assembly file read-back hr=0x%08x %s hash=%u flags=0x%x", (unsigned)hr, s,
             (unsigned)cb, (unsigned)flags);
    to_wide("Elsewhere.T", w, NAME_MAX_CHARS);
    STEP("assembly exportedtype",
         aemit->lpVtbl->DefineExportedType(aemit, w, file, 0x02000002, 1, &et), et);
    hr = c->aimp->lpVtbl->GetExportedTypeProps(c->aimp, et, w, NAME_MAX_CHARS, &cch, &impl, &td,
                                               &flags);
    to_narrow(w, s, sizeof s);
    prof_log("emit: assembly exportedtype read-back hr=0x%08x %s impl=0x%08x typedef=0x%08x "
             "flags=0x%x", (unsigned)hr, s, (unsigned)impl, (unsigned)td, (unsigned)flags);
    to_wide("probe.resources", w, NAME_MAX_CHARS);
    STEP("assembly resource", aemit->lpVtbl->DefineManifestResource(aemit, w, file, 16, 1, &mr),
         mr);
    hr = c->aimp->lpVtbl->GetManifestResourceProps(c->aimp, mr, w, NAME_MAX_CHARS, &cch, &impl,
                                                   &offset, &flags);
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
    hr = c->aimp->lpVtbl->GetExportedTypeProps(c->aimp, et, w, NAME_MAX_CHARS, &cch, &impl, &td,
                                               &flags);
    prof_log("emit: assembly setexportedtypeprops read-back hr=0x%08x impl=0x%08x typedef=0x%08x "
             "flags=0x%x", (unsigned)hr, (unsigned)impl, (unsigned)td, (unsigned)flags);
    hr = c->aimp->lpVtbl->GetManifestResourceProps(c->aimp, mr, w, NAME_MAX_CHARS, &cch, &impl,
                                                   &offset, &flags);
    prof_log("emit: assembly setmanifestresourceprops read-back hr=0x%08x impl=0x%08x offset=%u "
             "flags=0x%x", (unsigned)hr, (unsigned)impl, (unsigned)offset, (unsigned)flags);
    ASSEMBLYMETADATA amd;
    memset(&amd, 0, sizeof amd);
    amd.usMajorVersion = 2;
    mdAssemblyRef ar = emit_assembly_ref(c, "ProbeLib");
    STEP("assembly setassemblyrefprops",
         aemit->lpVtbl->SetAssemblyRefProps(aemit, ar, NULL, 0, NULL, &amd, NULL, 0, KEEP), ar);
    memset(&amd, 0, sizeof amd);
    hr = c->aimp->lpVtbl->GetAssemblyRefProps(c->aimp, ar, &h, &cb, w, NAME_MAX_CHARS, &cch, &amd,
                                              NULL, NULL, &flags);
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
    STEP("import type",
         c->emit->lpVtbl->DefineImportType(c->emit, caimp, NULL, 0, cimp, list, aemit, &tr), tr);
    describe("emit", "import type", himp, c->aimp, tr);
    tr = 0;
    STEP("import own type",
         c->emit->lpVtbl->DefineImportType(c->emit, c->aimp, NULL, 0, himp,
                                           emit_find_type(himp, "Hello.Program", 0), aemit, &tr),
         tr);
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
             c->emit->lpVtbl->DefineImportMember(c->emit, caimp, NULL, 0, cimp, tick, aemit,
                                                 env_ref, &mr),
             mr);
        HRESULT hr = c->imp->lpVtbl->GetMemberRefProps(c->imp, mr, &parent, w, NAME_MAX_CHARS, &cch,
                                                       &sig, &len);
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
    mdTypeDef volatile_td = emit_find_type(cimp, "System.Runtime.CompilerServices.IsVolatile", 0);
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
    translate_one("emit", "corelib->hello every kind", hemit, aemit, caimp, cimp, himp, c->aimp,
                  sig, (ULONG)n, XSIG_MAX);
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
        prof_log("emit: translate typespec 0x%08x hr=0x%08x %s", (unsigned)spec_out, (unsigned)hr2,
                 text);
    }
}

void emit_translate(emit_ctx *c, IMetaDataAssemblyEmit *aemit, mdTypeRef object)
{
    IMetaDataImport *cimp = NULL;
    IMetaDataAssemblyImport *caimp = NULL;
    IMetaDataEmit *cemit = NULL;
    IMetaDataAssemblyEmit *caemit = NULL;
    if (!getenv("PROF_EMIT_TRANSLATE"))
        return;
    prof_check(emit_corelib_mod != 0, "translate: no System.Private.CoreLib before Hello");
    HRESULT hr = c->info->lpVtbl->GetModuleMetaData(c->info, emit_corelib_mod, ofRead | ofWrite,
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
    mdTypeDef env = emit_find_type(cimp, "System.Environment", 0);
    mdToken types[4] = { emit_find_type(cimp, "System.Object", 0),
                         emit_find_type(cimp, "System.DayOfWeek", 0),
                         emit_find_type(cimp, "SpecialFolder", env),
                         emit_find_type(cimp, "System.Collections.Generic.List`1", 0) };
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
    translate_one("emit", "corelib->hello again", hemit, aemit, caimp, cimp, himp, c->aimp, sig,
                  (ULONG)n, XSIG_MAX);
    translate_one("emit", "corelib->hello short", hemit, aemit, caimp, cimp, himp, c->aimp, sig,
                  (ULONG)n, 4);
    every_kind(c, aemit, caimp, cimp, types);
    import_calls(c, aemit, caimp, cimp, types[3], env);
    /* Hello's: void f(Program, object[]) with its TypeDef and its System.Object TypeRef */
    n = 0;
    sig[n++] = SIG_DEFAULT;
    sig[n++] = 2;
    sig[n++] = ET_VOID;
    sig[n++] = ET_CLASS;
    n += compress_token(emit_find_type(himp, "Hello.Program", 0), sig + n);
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
