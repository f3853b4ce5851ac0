/* probes.c: the metadata a probe with parameters, a probe in another assembly and an
 * exit probe need, defined through the module's IMetaDataEmit as real profilers do: the
 * AssemblyRef, TypeRef and MemberRef of the probe (once per module), the user string of
 * a method's name, a new local signature carrying the return value across the
 * try/finally, and the TypeSpec that boxes it. The runtime de-duplicates TypeRefs,
 * MemberRefs, signatures, TypeSpecs and user strings, so per-method calls add nothing
 * twice. */
#include "plugin_state.h"

const char *ilg__plugin_module_assembly(module_state *ms)
{
    if (ms->assembly)
        return ms->assembly;
    IMetaDataImport *md = ms->md;
    IMetaDataAssemblyImport *ai = NULL;
    mdAssembly a = 0;
    WCHAR wname[NAME_CAP];
    char name[NAME_CAP] = "";
    ULONG len = 0;
    if (md->lpVtbl->QueryInterface(md, &IID_IMetaDataAssemblyImport, (void **)&ai) == S_OK && ai) {
        if (ai->lpVtbl->GetAssemblyFromScope(ai, &a) == S_OK &&
            ai->lpVtbl->GetAssemblyProps(ai, a, NULL, NULL, NULL, wname, NAME_CAP, &len, NULL,
                                         NULL) == S_OK)
            ilg__utf16_to_utf8(wname, len, name, sizeof name, NULL);
        ai->lpVtbl->Release(ai);
    }
    ms->assembly = strdup(name);
    return ms->assembly ? ms->assembly : "";
}

/* A probe "in another assembly" that is this one is looked up here, as its MethodDef:
 * so that the probe is recognised (and skipped) rather than given a call to itself
 * through a reference to its own assembly. */
bool ilg__plugin_probe_is_local(module_state *ms, const ilg__plugin_rule *r)
{
    return !r->probe_assembly || strcmp(ilg__plugin_module_assembly(ms), r->probe_assembly) == 0;
}

IMetaDataEmit *ilg__plugin_module_emit(worker *w, module_state *ms)
{
    if (!ms->emit_asked) {
        ICorProfilerInfo3 *info = w->p->info;
        IUnknown *unk = NULL;
        ms->emit_asked = true;
        if (info->lpVtbl->GetModuleMetaData(info, ms->module, ofRead | ofWrite, &IID_IMetaDataEmit,
                                            &unk) == S_OK)
            ms->emit = (IMetaDataEmit *)unk;
    }
    return ms->emit;
}

/* An AssemblyRef of the module called name (UTF-16, NUL-terminated), or 0. */
static mdAssemblyRef existing_assembly_ref(IMetaDataImport *md, const WCHAR *name)
{
    IMetaDataAssemblyImport *ai = NULL;
    HCORENUM e = NULL;
    mdAssemblyRef refs[64], found = 0;
    ULONG n = 0;
    if (md->lpVtbl->QueryInterface(md, &IID_IMetaDataAssemblyImport, (void **)&ai) != S_OK || !ai)
        return 0;
    while (!found && ai->lpVtbl->EnumAssemblyRefs(ai, &e, refs, 64, &n) == S_OK && n)
        for (ULONG i = 0; i < n && !found; i++) {
            WCHAR have[NAME_CAP];
            ULONG len = 0;
            if (ai->lpVtbl->GetAssemblyRefProps(ai, refs[i], NULL, NULL, have, NAME_CAP, &len, NULL,
                                                NULL, NULL, NULL) != S_OK)
                continue;
            size_t k = 0;
            while (have[k] && have[k] == name[k])
                k++;
            if (have[k] == name[k])
                found = refs[i];
        }
    ai->lpVtbl->CloseEnum(ai, e);
    ai->lpVtbl->Release(ai);
    return found;
}

/* The AssemblyRef for r's assembly: an existing one of that name, else a new one with
 * the rule's version and public key token. */
static mdAssemblyRef probe_assembly_ref(module_state *ms, IMetaDataEmit *emit,
                                        const ilg__plugin_rule *r, char *why, size_t cap)
{
    WCHAR wname[NAME_CAP];
    IMetaDataAssemblyEmit *ae = NULL;
    mdAssemblyRef ar = 0;
    ilg__utf8_to_utf16(r->probe_assembly, strlen(r->probe_assembly), wname, NAME_CAP);
    if ((ar = existing_assembly_ref(ms->md, wname)))
        return ar;
    HRESULT hr = emit->lpVtbl->QueryInterface(emit, &IID_IMetaDataAssemblyEmit, (void **)&ae);
    if (hr == S_OK && ae) {
        ASSEMBLYMETADATA meta = { r->probe_version[0], r->probe_version[1], r->probe_version[2],
                                  r->probe_version[3], NULL, 0, NULL, 0, NULL, 0 };
        hr = ae->lpVtbl->DefineAssemblyRef(ae, r->probe_has_key ? r->probe_key_token : NULL,
                                           r->probe_has_key ? 8 : 0, wname, &meta, NULL, 0, 0, &ar);
        ae->lpVtbl->Release(ae);
    }
    if (FAILED(hr) || !ar) {
        snprintf(why, cap, "IMetaDataAssemblyEmit::DefineAssemblyRef(%s) returned 0x%08x",
                 r->probe_assembly, (unsigned)hr);
        return 0;
    }
    return ar;
}

mdMemberRef ilg__plugin_probe_ref(worker *w, module_state *ms, const ilg__plugin_rule *r,
                                  char *why, size_t cap)
{
    WCHAR wname[NAME_CAP];
    IMetaDataEmit *emit = ilg__plugin_module_emit(w, ms);
    if (!emit) {
        snprintf(why, cap, "GetModuleMetaData(ofRead | ofWrite, IID_IMetaDataEmit) refused");
        return 0;
    }
    mdToken scope = probe_assembly_ref(ms, emit, r, why, cap);
    if (!scope)
        return 0;
    /* "Ns.Outer/Inner": a TypeRef per level, each scoped by the one before. */
    for (const char *seg = r->probe_type;;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        mdTypeRef tr = 0;
        ilg__utf8_to_utf16(seg, n, wname, NAME_CAP);
        HRESULT hr = emit->lpVtbl->DefineTypeRefByName(emit, scope, wname, &tr);
        if (FAILED(hr) || !tr) {
            snprintf(why, cap, "DefineTypeRefByName(%.*s) returned 0x%08x", (int)n, seg,
                     (unsigned)hr);
            return 0;
        }
        scope = tr;
        if (!slash)
            break;
        seg = slash + 1;
    }
    uint8_t sig[3 + ILG__PROBE_ARGS_MAX];
    size_t len = ilg__plugin_probe_sig(r, sig);
    mdMemberRef mr = 0;
    ilg__utf8_to_utf16(r->probe_method, strlen(r->probe_method), wname, NAME_CAP);
    HRESULT hr = emit->lpVtbl->DefineMemberRef(emit, scope, wname, sig, (ULONG)len, &mr);
    if (FAILED(hr) || !mr) {
        snprintf(why, cap, "DefineMemberRef(%s) returned 0x%08x", r->probe_method, (unsigned)hr);
        return 0;
    }
    return mr;
}

mdString ilg__plugin_user_string(module_state *ms, const char *text, size_t n)
{
    WCHAR wtext[FULL_CAP];
    mdString tok = 0;
    if (!ms->emit)
        return 0;
    size_t units = ilg__utf8_to_utf16(text, n, wtext, FULL_CAP);
    if (units > FULL_CAP)
        units = FULL_CAP;
    if (FAILED(ms->emit->lpVtbl->DefineUserString(ms->emit, wtext, (ULONG)(units - 1), &tok)))
        return 0;
    return tok;
}

bool ilg__plugin_return_local(worker *w, module_state *ms, uint32_t local_sig, const uint8_t *msig,
                              const method_shape *m, uint32_t *index, uint32_t *new_sig,
                              char *why, size_t cap)
{
    IMetaDataImport *md = ms->md;
    PCCOR_SIGNATURE old = NULL;
    ULONG old_len = 0;
    uint32_t n = 0;
    uint8_t conv = 0;
    *new_sig = 0;
    if ((*index = ilg__plugin_local_of_type(md, local_sig, msig, m)) != ILG_NO_LOCAL)
        return true;
    ilg_sig_cur s = { NULL, NULL };
    if (local_sig) {
        if (md->lpVtbl->GetSigFromToken(md, local_sig, &old, &old_len) != S_OK || !old) {
            snprintf(why, cap, "no local signature 0x%08x", (unsigned)local_sig);
            return false;
        }
        s = (ilg_sig_cur){ old, old + old_len };
        if (!ilg__sig_u8(&s, &conv) || conv != ILG_SIG_LOCAL || !ilg__sig_uint(&s, &n) ||
            n >= 0xFFFE) {
            snprintf(why, cap, "local signature 0x%08x is not a LOCAL_SIG", (unsigned)local_sig);
            return false;
        }
    }
    IMetaDataEmit *emit = ilg__plugin_module_emit(w, ms);
    if (!emit) {
        snprintf(why, cap, "no local of the return type, and no IMetaDataEmit to make one");
        return false;
    }
    /* LOCAL_SIG, the count plus one, the old locals, the return type (a RetType's bytes
     * are a valid local: custom modifiers, BYREF, TYPEDBYREF). */
    const size_t rest = (size_t)(s.end - s.p), ret = m->ret_end - m->ret_start;
    uint8_t *blob = malloc(1 + 4 + rest + ret);
    if (!blob) {
        snprintf(why, cap, "no memory for a local signature");
        return false;
    }
    size_t len = 0;
    blob[len++] = ILG_SIG_LOCAL;
    len += ilg__wr_compressed(blob + len, n + 1);
    if (rest)
        memcpy(blob + len, s.p, rest);
    len += rest;
    memcpy(blob + len, msig + m->ret_start, ret);
    len += ret;
    mdSignature tok = 0;
    HRESULT hr = emit->lpVtbl->GetTokenFromSig(emit, blob, (ULONG)len, &tok);
    free(blob);
    if (FAILED(hr) || !tok) {
        snprintf(why, cap, "GetTokenFromSig (a local of the return type) returned 0x%08x",
                 (unsigned)hr);
        return false;
    }
    *index = n;
    *new_sig = tok;
    return true;
}

/* By-ref-like value types cannot be boxed: the module's own types marked
 * IsByRefLikeAttribute (C#'s ref structs), and the framework's by name (a TypeRef is not
 * followed into its assembly). */
static bool byref_like(IMetaDataImport *md, mdToken type)
{
    static const char *const framework[] = { "System.Span`1", "System.ReadOnlySpan`1",
                                             "System.TypedReference", "System.ArgIterator",
                                             "System.RuntimeArgumentHandle" };
    WCHAR wname[NAME_CAP];
    char name[NAME_CAP];
    ULONG len = 0;
    if (TypeFromToken(type) == mdtTypeDef) {
        static const WCHAR attr[] = u"System.Runtime.CompilerServices.IsByRefLikeAttribute";
        return md->lpVtbl->GetCustomAttributeByName(md, type, attr, NULL, NULL) == S_OK;
    }
    if (TypeFromToken(type) != mdtTypeRef ||
        md->lpVtbl->GetTypeRefProps(md, type, NULL, wname, NAME_CAP, &len) != S_OK)
        return false;
    ilg__utf16_to_utf8(wname, len, name, sizeof name, NULL);
    for (size_t i = 0; i < ILG_ARRAY_LEN(framework); i++)
        if (strcmp(name, framework[i]) == 0)
            return true;
    return false;
}

bool ilg__plugin_return_box(module_state *ms, const uint8_t *msig, const method_shape *m,
                            uint32_t *box, bool *null)
{
    ilg_sig_cur s = { msig + m->ret_start, msig + m->ret_end };
    uint32_t tok = 0;
    uint8_t t = 0;
    *box = 0;
    *null = !m->returns;
    if (!m->returns)
        return true;
    while (s.p < s.end && (*s.p == ILG_ET_CMOD_REQD || *s.p == ILG_ET_CMOD_OPT))
        if (s.p++, !ilg__sig_uint(&s, &tok))
            return false;
    const uint8_t *type = s.p;
    if (!ilg__sig_u8(&s, &t))
        return false;
    switch (t) {
    case ILG_ET_BYREF: case ILG_ET_PTR: case ILG_ET_FNPTR: case ILG_ET_TYPEDBYREF:
        *null = true;
        return true;
    case ILG_ET_STRING: case ILG_ET_OBJECT: case ILG_ET_CLASS: case ILG_ET_SZARRAY:
    case ILG_ET_ARRAY:
        return true; /* a reference already */
    case ILG_ET_GENERICINST: {
        uint8_t kind = 0;
        if (!ilg__sig_u8(&s, &kind) || !ilg__sig_token(&s, &tok))
            return false;
        if (kind == ILG_ET_CLASS)
            return true;
        if (byref_like(ms->md, tok)) {
            *null = true;
            return true;
        }
        break;
    }
    case ILG_ET_VALUETYPE:
        if (!ilg__sig_token(&s, &tok))
            return false;
        *null = byref_like(ms->md, tok);
        *box = *null ? 0 : tok;
        return true;
    default: /* primitives, !T, !!T (box of a reference type parameter is a no-op) */
        break;
    }
    mdTypeSpec ts = 0;
    if (!ms->emit ||
        FAILED(ms->emit->lpVtbl->GetTokenFromTypeSpec(ms->emit, type, (ULONG)(s.end - type), &ts)) ||
        !ts)
        return false;
    *box = ts;
    return true;
}
