/* md_probe.c: a conformance profiler for the metadata read side (built against
 * ilgraft/corprof.h alone, on the integration tests' skeleton prof_common.c). At
 * ModuleLoadFinished of each module named in MD_PROBE_MODULES (comma-separated file
 * names, "Hello.dll,System.Runtime.dll"), it walks the module through IMetaDataImport2
 * and IMetaDataAssemblyImport (GetModuleMetaData, ofRead) and logs every call with its
 * arguments, HRESULT and results: pointers as the length and FNV-1a hash of the bytes
 * they point at, never as addresses. The same run under a real CoreCLR and under
 * `ilgraft run` gives two logs that test_md_conformance compares line by line.
 * Each line starts "MD <module file name> " so that the modules' lines can be taken
 * apart whatever order the runtime loads them in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof_common.h"

#define CAP 512
#define BATCH 5   /* tokens per Enum* call: several calls per enumeration */
#define MAX_TOKENS 65536
/* A signature's kind (its first byte's low bits, ECMA-335 II.23.2): a local one. */
#define IMAGE_CEE_CS_CALLCONV_MASK 0x0F
#define LOCAL_SIG_KIND 0x07

typedef struct walk {
    const char *mod;
    IMetaDataImport2 *imp;
    IMetaDataAssemblyImport *asm_imp;
} walk;

static unsigned long long fnv(const void *p, size_t n)
{
    const unsigned char *b = p;
    unsigned long long h = 0xcbf29ce484222325ull;
    for (size_t i = 0; b && i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* A UTF-16 name as ASCII text ('?' elsewhere), at most n characters. */
static const char *text(const WCHAR *w, ULONG n, char out[CAP])
{
    ULONG i;
    for (i = 0; i < n && i + 1 < CAP && w[i]; i++)
        out[i] = w[i] >= 0x20 && w[i] < 0x7F ? (char)w[i] : '?';
    out[i] = 0;
    return out;
}

static void to_wide(const char *s, WCHAR out[CAP])
{
    size_t i;
    for (i = 0; s[i] && i + 1 < CAP; i++)
        out[i] = (unsigned char)s[i];
    out[i] = 0;
}

#define LOG(w, fmt, ...) prof_log("MD %s " fmt, (w)->mod, __VA_ARGS__)

/* Runs an enumeration to its end in batches, logging each call's HRESULT and count,
 * the total from CountEnum, and a ResetEnum back to the start; the tokens in out. */
typedef HRESULT (*enum_fn)(walk *w, HCORENUM *h, mdToken *buf, ULONG max, ULONG *n, void *ctx);
static ULONG run_enum(walk *w, const char *what, enum_fn fn, void *ctx, mdToken *out, ULONG cap)
{
    HCORENUM h = NULL;
    ULONG total = 0, n = 0, count = 0;
    HRESULT hr;
    char line[CAP * 2];
    size_t len = 0;
    line[0] = 0;
    do {
        n = 0;
        hr = fn(w, &h, out + total, total + BATCH <= cap ? BATCH : 0, &n, ctx);
        len += (size_t)snprintf(line + len, sizeof line - len,
                                " %08X/%lu", (unsigned)hr, (unsigned long)n);
        if (len >= sizeof line)
            len = sizeof line - 1;
        total += n;
    } while (hr == S_OK && n > 0);
    HRESULT hc = w->imp->lpVtbl->CountEnum(w->imp, h, &count);
    HRESULT hrs = w->imp->lpVtbl->ResetEnum(w->imp, h, 0);
    mdToken first = 0;
    ULONG again = 0;
    HRESULT ha = fn(w, &h, &first, 1, &again, ctx);
    w->imp->lpVtbl->CloseEnum(w->imp, h);
    LOG(w, "%s calls%s count=%08X/%lu reset=%08X again=%08X/%lu/%08X", what, line, (unsigned)hc,
        (unsigned long)count, (unsigned)hrs, (unsigned)ha, (unsigned long)again,
        (unsigned)first);
    for (ULONG i = 0; i < total; i++)
        LOG(w, "%s[%lu]=%08X", what, (unsigned long)i, (unsigned)out[i]);
    return total;
}

/* ---- the enumerations, as enum_fn -------------------------------------------------- */

#define TK(ctx) (*(mdToken *)(ctx))
static HRESULT e_typedefs(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ (void)c; return w->imp->lpVtbl->EnumTypeDefs(w->imp, h, b, m, n); }
static HRESULT e_typerefs(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ (void)c; return w->imp->lpVtbl->EnumTypeRefs(w->imp, h, b, m, n); }
static HRESULT e_typespecs(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ (void)c; return w->imp->lpVtbl->EnumTypeSpecs(w->imp, h, b, m, n); }
static HRESULT e_sigs(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ (void)c; return w->imp->lpVtbl->EnumSignatures(w->imp, h, b, m, n); }
static HRESULT e_modrefs(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ (void)c; return w->imp->lpVtbl->EnumModuleRefs(w->imp, h, b, m, n); }
static HRESULT e_methods(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumMethods(w->imp, h, TK(c), b, m, n); }
static HRESULT e_fields(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumFields(w->imp, h, TK(c), b, m, n); }
static HRESULT e_members(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumMembers(w->imp, h, TK(c), b, m, n); }
static HRESULT e_params(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumParams(w->imp, h, TK(c), b, m, n); }
static HRESULT e_ifaces(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumInterfaceImpls(w->imp, h, TK(c), b, m, n); }
static HRESULT e_memberrefs(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumMemberRefs(w->imp, h, TK(c), b, m, n); }
static HRESULT e_gparams(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumGenericParams(w->imp, h, TK(c), b, m, n); }
static HRESULT e_gpcons(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumGenericParamConstraints(w->imp, h, TK(c), b, m, n); }
static HRESULT e_cas(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumCustomAttributes(w->imp, h, TK(c), 0, b, m, n); }
static HRESULT e_mspecs(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumMethodSpecs(w->imp, h, TK(c), b, m, n); }
static HRESULT e_asmrefs(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ (void)c; return w->asm_imp->lpVtbl->EnumAssemblyRefs(w->asm_imp, h, b, m, n); }
static HRESULT e_exported(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ (void)c; return w->asm_imp->lpVtbl->EnumExportedTypes(w->asm_imp, h, b, m, n); }
static HRESULT e_resources(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ (void)c; return w->asm_imp->lpVtbl->EnumManifestResources(w->asm_imp, h, b, m, n); }
static HRESULT e_files(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ (void)c; return w->asm_imp->lpVtbl->EnumFiles(w->asm_imp, h, b, m, n); }
static HRESULT e_props(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumProperties(w->imp, h, TK(c), b, m, n); }
static HRESULT e_events(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumEvents(w->imp, h, TK(c), b, m, n); }
static HRESULT e_semantics(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumMethodSemantics(w->imp, h, TK(c), b, m, n); }
static HRESULT e_perms(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ return w->imp->lpVtbl->EnumPermissionSets(w->imp, h, TK(c), 0, b, m, n); }
static HRESULT e_ustrings(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{ (void)c; return w->imp->lpVtbl->EnumUserStrings(w->imp, h, b, m, n); }
static HRESULT e_unresolved(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{
    (void)c;
    return w->imp->lpVtbl->EnumUnresolvedMethods(w->imp, h, b, m, n);
}
static HRESULT e_withname(walk *w, HCORENUM *h, mdToken *b, ULONG m, ULONG *n, void *c)
{
    const void *const *a = c;
    return w->imp->lpVtbl->EnumMethodsWithName(w->imp, h, *(const mdToken *)a[0], a[1], b, m, n);
}

/* ---- one token's properties --------------------------------------------------------- */

static void constant(walk *w, const char *what, mdToken tk, DWORD type, UVCP_CONSTANT value,
                     ULONG cch)
{
    /* The value's bytes: a string's characters, else the element type's size at most 8. */
    size_t n = cch ? (size_t)cch * 2 : type == 0x01 ? 0 : type == 0x12 ? 4 : 1;
    if (type >= 0x02 && type <= 0x0D)
        n = (size_t[]){ 1, 2, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8 }[type - 0x02];
    LOG(w, "%s %08X const type=%02X cch=%lu value=%s%016llx", what, (unsigned)tk, (unsigned)type,
        (unsigned long)cch, value ? "" : "null/", value ? fnv(value, n) : 0);
}

/* What every TypeDef, MethodDef and Field answers alike. */
static void common(walk *w, mdToken tk)
{
    MDUTF8CSTR utf8 = NULL;
    int global = 7;
    HRESULT hn = w->imp->lpVtbl->GetNameFromToken(w->imp, tk, &utf8);
    HRESULT hg = w->imp->lpVtbl->IsGlobal(w->imp, tk, &global);
    LOG(w, "GetNameFromToken %08X -> %08X %s IsGlobal -> %08X %d", (unsigned)tk, (unsigned)hn,
        hn == S_OK && utf8 ? utf8 : "", (unsigned)hg, global);
    if (TypeFromToken(tk) == mdtTypeDef)
        return;
    mdToken cls = 0, found = 0;
    WCHAR name[CAP];
    ULONG nl = 0, sl = 0, rva = 0, cch = 0;
    DWORD attr = 0, impl = 0, type = 0;
    PCCOR_SIGNATURE sig = NULL;
    UVCP_CONSTANT value = NULL;
    char t[CAP];
    HRESULT hr = w->imp->lpVtbl->GetMemberProps(w->imp, tk, &cls, name, CAP, &nl, &attr, &sig, &sl,
                                                &rva, &impl, &type, &value, &cch);
    LOG(w, "GetMemberProps %08X -> %08X class=%08X name=%s/%lu attr=%X sig=%lu/%016llx rva=%lX "
        "impl=%X", (unsigned)tk, (unsigned)hr, (unsigned)cls, text(name, nl, t), (unsigned long)nl,
        (unsigned)attr, (unsigned long)sl, fnv(sig, sl), (unsigned long)rva, (unsigned)impl);
    constant(w, "GetMemberProps", tk, type, value, cch);
    hr = w->imp->lpVtbl->FindMember(w->imp, cls, name, sig, sl, &found);
    LOG(w, "FindMember %08X %s -> %08X %08X", (unsigned)cls, t, (unsigned)hr, (unsigned)found);
    hr = w->imp->lpVtbl->GetRVA(w->imp, tk, &rva, &impl);
    LOG(w, "GetRVA %08X -> %08X %lX %X", (unsigned)tk, (unsigned)hr, (unsigned long)rva,
        (unsigned)impl);
}

static void custom_attributes(walk *w, mdToken tk, mdToken *buf)
{
    ULONG n = run_enum(w, "EnumCustomAttributes", e_cas, &tk, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        mdToken obj = 0, type = 0;
        const void *blob = NULL;
        ULONG len = 0;
        HRESULT hr = w->imp->lpVtbl->GetCustomAttributeProps(w->imp, buf[i], &obj, &type, &blob, &len);
        LOG(w, "GetCustomAttributeProps %08X -> %08X obj=%08X type=%08X blob=%lu/%016llx",
            (unsigned)buf[i], (unsigned)hr, (unsigned)obj, (unsigned)type, (unsigned long)len,
            fnv(blob, len));
        /* By the name of its type, when that is a TypeRef or TypeDef. */
        mdToken cls = type;
        WCHAR name[CAP];
        ULONG nl = 0;
        char t[CAP];
        if (TypeFromToken(type) == mdtMemberRef)
            w->imp->lpVtbl->GetMemberRefProps(w->imp, type, &cls, NULL, 0, NULL, NULL, NULL);
        else if (TypeFromToken(type) == mdtMethodDef)
            w->imp->lpVtbl->GetMethodProps(w->imp, type, &cls, NULL, 0, NULL, NULL, NULL, NULL,
                                           NULL, NULL);
        hr = E_FAIL;
        if (TypeFromToken(cls) == mdtTypeRef)
            hr = w->imp->lpVtbl->GetTypeRefProps(w->imp, cls, NULL, name, CAP, &nl);
        else if (TypeFromToken(cls) == mdtTypeDef)
            hr = w->imp->lpVtbl->GetTypeDefProps(w->imp, cls, name, CAP, &nl, NULL, NULL);
        if (hr != S_OK)
            continue;
        blob = NULL;
        len = 0;
        hr = w->imp->lpVtbl->GetCustomAttributeByName(w->imp, tk, name, &blob, &len);
        LOG(w, "GetCustomAttributeByName %08X %s -> %08X blob=%lu/%016llx", (unsigned)tk,
            text(name, nl, t), (unsigned)hr, (unsigned long)len, fnv(blob, len));
    }
    WCHAR none[CAP];
    const void *blob = NULL;
    ULONG len = 0;
    to_wide("No.Such.Attribute", none);
    HRESULT hr = w->imp->lpVtbl->GetCustomAttributeByName(w->imp, tk, none, &blob, &len);
    LOG(w, "GetCustomAttributeByName %08X No.Such.Attribute -> %08X", (unsigned)tk, (unsigned)hr);
}

static void generic_params(walk *w, mdToken owner, mdToken *buf)
{
    ULONG n = run_enum(w, "EnumGenericParams", e_gparams, &owner, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        ULONG seq = 0, nl = 0;
        DWORD flags = 0, reserved = 7;
        mdToken own = 0, gp = buf[i];
        WCHAR name[CAP];
        char t[CAP];
        HRESULT hr = w->imp->lpVtbl->GetGenericParamProps(w->imp, gp, &seq, &flags, &own,
                                                          &reserved, name, CAP, &nl);
        LOG(w, "GetGenericParamProps %08X -> %08X seq=%lu flags=%X owner=%08X name=%s/%lu",
            (unsigned)gp, (unsigned)hr, (unsigned long)seq, (unsigned)flags, (unsigned)own,
            text(name, nl, t), (unsigned long)nl);
        mdToken cons[64];
        ULONG nc = run_enum(w, "EnumGenericParamConstraints", e_gpcons, &gp, cons, 64);
        for (ULONG k = 0; k < nc; k++) {
            mdToken param = 0, type = 0;
            hr = w->imp->lpVtbl->GetGenericParamConstraintProps(w->imp, cons[k], &param, &type);
            LOG(w, "GetGenericParamConstraintProps %08X -> %08X param=%08X type=%08X",
                (unsigned)cons[k], (unsigned)hr, (unsigned)param, (unsigned)type);
        }
    }
}


static void native_call_conv(walk *w, mdToken of, PCCOR_SIGNATURE sig, ULONG len)
{
    ULONG cc = 0x7777;
    HRESULT hr = w->imp->lpVtbl->GetNativeCallConvFromSig(w->imp, sig, len, &cc);
    LOG(w, "GetNativeCallConvFromSig %08X -> %08X %lX", (unsigned)of, (unsigned)hr,
        (unsigned long)cc);
}

static void method(walk *w, mdToken td, mdToken mb, mdToken *buf)
{
    mdToken cls = 0, found = 0;
    WCHAR name[CAP];
    ULONG nl = 0, sl = 0, rva = 0;
    DWORD attr = 0, impl = 0;
    PCCOR_SIGNATURE sig = NULL;
    char t[CAP];
    HRESULT hr = w->imp->lpVtbl->GetMethodProps(w->imp, mb, &cls, name, CAP, &nl, &attr, &sig,
                                                &sl, &rva, &impl);
    LOG(w, "GetMethodProps %08X -> %08X class=%08X name=%s/%lu attr=%X sig=%lu/%016llx rva=%lX "
        "impl=%X", (unsigned)mb, (unsigned)hr, (unsigned)cls, text(name, nl, t), (unsigned long)nl,
        (unsigned)attr, (unsigned long)sl, fnv(sig, sl), (unsigned long)rva, (unsigned)impl);
    hr = w->imp->lpVtbl->FindMethod(w->imp, td, name, sig, sl, &found);
    LOG(w, "FindMethod %08X %s -> %08X %08X", (unsigned)td, t, (unsigned)hr, (unsigned)found);
    native_call_conv(w, mb, sig, sl);
    mdToken params[256];
    ULONG np = run_enum(w, "EnumParams", e_params, &mb, params, 256);
    for (ULONG i = 0; i < np; i++) {
        mdToken owner = 0;
        ULONG seq = 0, pl = 0, cch = 0;
        DWORD pattr = 0, type = 0;
        UVCP_CONSTANT value = NULL;
        WCHAR pname[CAP];
        hr = w->imp->lpVtbl->GetParamProps(w->imp, params[i], &owner, &seq, pname, CAP, &pl,
                                           &pattr, &type, &value, &cch);
        LOG(w, "GetParamProps %08X -> %08X method=%08X seq=%lu name=%s/%lu attr=%X",
            (unsigned)params[i], (unsigned)hr, (unsigned)owner, (unsigned long)seq,
            text(pname, pl, t), (unsigned long)pl, (unsigned)pattr);
        constant(w, "GetParamProps", params[i], type, value, cch);
    }
    mdToken assoc[64];
    ULONG na = run_enum(w, "EnumMethodSemantics", e_semantics, &mb, assoc, 64);
    for (ULONG i = 0; i < na; i++) {
        DWORD sem = 0;
        hr = w->imp->lpVtbl->GetMethodSemantics(w->imp, mb, assoc[i], &sem);
        LOG(w, "GetMethodSemantics %08X %08X -> %08X %X", (unsigned)mb, (unsigned)assoc[i],
            (unsigned)hr, (unsigned)sem);
    }
    DWORD map = 0;
    mdToken dll = 0;
    WCHAR entry[CAP];
    ULONG el = 0;
    hr = w->imp->lpVtbl->GetPinvokeMap(w->imp, mb, &map, entry, CAP, &el, &dll);
    LOG(w, "GetPinvokeMap %08X -> %08X flags=%X name=%s/%lu dll=%08X", (unsigned)mb, (unsigned)hr,
        (unsigned)map, hr == S_OK ? text(entry, el, t) : "", (unsigned long)el, (unsigned)dll);
    ULONG rva2 = 0;
    DWORD impl2 = 0;
    hr = w->imp->lpVtbl->GetRVA(w->imp, mb, &rva2, &impl2);
    LOG(w, "GetRVA %08X -> %08X %lX %X", (unsigned)mb, (unsigned)hr, (unsigned long)rva2,
        (unsigned)impl2);
    mdToken pd = 0;
    hr = w->imp->lpVtbl->GetParamForMethodIndex(w->imp, mb, 1, &pd);
    LOG(w, "GetParamForMethodIndex %08X 1 -> %08X %08X", (unsigned)mb, (unsigned)hr, (unsigned)pd);
    generic_params(w, mb, buf);
    custom_attributes(w, mb, buf);
    common(w, mb);
}

static void field(walk *w, mdToken td, mdToken fd)
{
    mdToken cls = 0, found = 0;
    WCHAR name[CAP];
    ULONG nl = 0, sl = 0, cch = 0;
    DWORD attr = 0, type = 0;
    PCCOR_SIGNATURE sig = NULL;
    UVCP_CONSTANT value = NULL;
    char t[CAP];
    HRESULT hr = w->imp->lpVtbl->GetFieldProps(w->imp, fd, &cls, name, CAP, &nl, &attr, &sig, &sl,
                                               &type, &value, &cch);
    LOG(w, "GetFieldProps %08X -> %08X class=%08X name=%s/%lu attr=%X sig=%lu/%016llx",
        (unsigned)fd, (unsigned)hr, (unsigned)cls, text(name, nl, t), (unsigned long)nl,
        (unsigned)attr, (unsigned long)sl, fnv(sig, sl));
    constant(w, "GetFieldProps", fd, type, value, cch);
    PCCOR_SIGNATURE native = NULL;
    ULONG nl2 = 0;
    hr = w->imp->lpVtbl->GetFieldMarshal(w->imp, fd, &native, &nl2);
    LOG(w, "GetFieldMarshal %08X -> %08X %lu/%016llx", (unsigned)fd, (unsigned)hr,
        (unsigned long)nl2, fnv(native, nl2));
    hr = w->imp->lpVtbl->FindField(w->imp, td, name, sig, sl, &found);
    LOG(w, "FindField %08X %s -> %08X %08X", (unsigned)td, t, (unsigned)hr, (unsigned)found);
    common(w, fd);
}

static void properties_events(walk *w, mdToken td, mdToken *buf)
{
    WCHAR name[CAP];
    ULONG nl = 0, sl = 0, cch = 0, nother = 0;
    DWORD flags = 0, type = 0;
    mdToken cls = 0, a = 0, b = 0, c = 0, others[8];
    PCCOR_SIGNATURE sig = NULL;
    UVCP_CONSTANT value = NULL;
    char t[CAP];
    ULONG n = run_enum(w, "EnumProperties", e_props, &td, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        HRESULT hr = w->imp->lpVtbl->GetPropertyProps(w->imp, buf[i], &cls, name, CAP, &nl, &flags,
                                                      &sig, &sl, &type, &value, &cch, &a, &b,
                                                      others, 8, &nother);
        LOG(w, "GetPropertyProps %08X -> %08X class=%08X name=%s/%lu flags=%X sig=%lu/%016llx "
            "setter=%08X getter=%08X others=%lu", (unsigned)buf[i], (unsigned)hr, (unsigned)cls,
            text(name, nl, t), (unsigned long)nl, (unsigned)flags, (unsigned long)sl, fnv(sig, sl),
            (unsigned)a, (unsigned)b, (unsigned long)nother);
        constant(w, "GetPropertyProps", buf[i], type, value, cch);
        custom_attributes(w, buf[i], buf + n);
    }
    n = run_enum(w, "EnumEvents", e_events, &td, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        mdToken etype = 0;
        HRESULT hr = w->imp->lpVtbl->GetEventProps(w->imp, buf[i], &cls, name, CAP, &nl, &flags,
                                                   &etype, &a, &b, &c, others, 8, &nother);
        LOG(w, "GetEventProps %08X -> %08X class=%08X name=%s/%lu flags=%X type=%08X add=%08X "
            "remove=%08X fire=%08X others=%lu", (unsigned)buf[i], (unsigned)hr, (unsigned)cls,
            text(name, nl, t), (unsigned long)nl, (unsigned)flags, (unsigned)etype, (unsigned)a,
            (unsigned)b, (unsigned)c, (unsigned long)nother);
    }
    HCORENUM h = NULL;
    mdToken body[BATCH], decl[BATCH];
    ULONG got = 0, total = 0;
    HRESULT hr;
    while ((hr = w->imp->lpVtbl->EnumMethodImpls(w->imp, &h, td, body, decl, BATCH, &got)) == S_OK &&
           got) {
        for (ULONG i = 0; i < got; i++)
            LOG(w, "EnumMethodImpls %08X [%lu] body=%08X decl=%08X", (unsigned)td,
                (unsigned long)(total + i), (unsigned)body[i], (unsigned)decl[i]);
        total += got;
    }
    w->imp->lpVtbl->CloseEnum(w->imp, h);
    LOG(w, "EnumMethodImpls %08X -> %08X total=%lu", (unsigned)td, (unsigned)hr,
        (unsigned long)total);
    run_enum(w, "EnumPermissionSets", e_perms, &td, buf, MAX_TOKENS);
}

static void type_def(walk *w, mdToken td, mdToken *buf)
{
    WCHAR name[CAP];
    ULONG nl = 0;
    DWORD flags = 0;
    mdToken ext = 0, outer = 0, found = 0;
    char t[CAP];
    HRESULT hr = w->imp->lpVtbl->GetTypeDefProps(w->imp, td, name, CAP, &nl, &flags, &ext);
    LOG(w, "GetTypeDefProps %08X -> %08X name=%s/%lu flags=%X extends=%08X", (unsigned)td,
        (unsigned)hr, text(name, nl, t), (unsigned long)nl, (unsigned)flags, (unsigned)ext);
    HRESULT hn = w->imp->lpVtbl->GetNestedClassProps(w->imp, td, &outer);
    LOG(w, "GetNestedClassProps %08X -> %08X %08X", (unsigned)td, (unsigned)hn, (unsigned)outer);
    hr = w->imp->lpVtbl->FindTypeDefByName(w->imp, name, hn == S_OK ? outer : 0, &found);
    LOG(w, "FindTypeDefByName %s %08X -> %08X %08X", t, (unsigned)(hn == S_OK ? outer : 0),
        (unsigned)hr, (unsigned)found);
    WCHAR small[3] = { 0x7777, 0x7777, 0x7777 };
    ULONG sn = 0;
    hr = w->imp->lpVtbl->GetTypeDefProps(w->imp, td, small, 3, &sn, NULL, NULL);
    LOG(w, "GetTypeDefProps %08X cch=3 -> %08X %lu [%04X %04X %04X]", (unsigned)td, (unsigned)hr,
        (unsigned long)sn, small[0], small[1], small[2]);
    ULONG n = run_enum(w, "EnumInterfaceImpls", e_ifaces, &td, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        mdToken cls = 0, itf = 0;
        hr = w->imp->lpVtbl->GetInterfaceImplProps(w->imp, buf[i], &cls, &itf);
        LOG(w, "GetInterfaceImplProps %08X -> %08X class=%08X iface=%08X", (unsigned)buf[i],
            (unsigned)hr, (unsigned)cls, (unsigned)itf);
    }
    generic_params(w, td, buf);
    custom_attributes(w, td, buf);
    properties_events(w, td, buf);
    common(w, td);
    DWORD pack = 0;
    ULONG size = 0, nfo = 0;
    COR_FIELD_OFFSET fo[16];
    hr = w->imp->lpVtbl->GetClassLayout(w->imp, td, &pack, fo, 16, &nfo, &size);
    LOG(w, "GetClassLayout %08X -> %08X pack=%lu size=%lu fields=%lu", (unsigned)td, (unsigned)hr,
        (unsigned long)pack, (unsigned long)size, (unsigned long)nfo);
    for (ULONG k = 0; hr == S_OK && k < nfo && k < 16; k++)
        LOG(w, "GetClassLayout %08X [%lu] %08X at %lX", (unsigned)td, (unsigned long)k,
            (unsigned)fo[k].ridOfField, (unsigned long)fo[k].ulOffset);
    run_enum(w, "EnumMemberRefs", e_memberrefs, &td, buf, MAX_TOKENS);
    run_enum(w, "EnumMembers", e_members, &td, buf, MAX_TOKENS);
    mdToken *members = malloc(MAX_TOKENS * sizeof *members);
    if (!members)
        return;
    n = run_enum(w, "EnumFields", e_fields, &td, members, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++)
        field(w, td, members[i]);
    n = run_enum(w, "EnumMethods", e_methods, &td, members, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++)
        method(w, td, members[i], buf);
    if (n) {
        WCHAR mname[CAP];
        ULONG ml = 0;
        w->imp->lpVtbl->GetMethodProps(w->imp, members[0], NULL, mname, CAP, &ml, NULL, NULL,
                                       NULL, NULL, NULL);
        const void *args[2] = { &td, mname };
        run_enum(w, "EnumMethodsWithName", e_withname, (void *)args, buf, MAX_TOKENS);
    }
    free(members);
}

/* ---- the scope ---------------------------------------------------------------------- */

/* ResolveTypeRef: the scope it answers is named by its GetScopeProps name, never by
 * address. */
static void resolve_type_ref(walk *w, mdToken tr)
{
    IUnknown *scope = NULL;
    mdTypeDef td = 0x7777;
    char t[CAP];
    HRESULT hr = w->imp->lpVtbl->ResolveTypeRef(w->imp, tr, &IID_IMetaDataImport, &scope, &td);
    t[0] = 0;
    if (hr == S_OK && scope) {
        WCHAR name[CAP];
        ULONG l = 0;
        IMetaDataImport *other = (IMetaDataImport *)scope;
        if (other->lpVtbl->GetScopeProps(other, name, CAP, &l, NULL) == S_OK)
            text(name, l, t);
        scope->lpVtbl->Release(scope);
    }
    LOG(w, "ResolveTypeRef %08X -> %08X scope=%d/%s td=%08X", (unsigned)tr, (unsigned)hr,
        scope != NULL, t, (unsigned)td);
}

static void references(walk *w, mdToken *buf)
{
    WCHAR name[CAP];
    ULONG nl = 0, len = 0;
    mdToken scope = 0, found = 0;
    PCCOR_SIGNATURE sig = NULL;
    char t[CAP];
    HRESULT hr;
    ULONG n = run_enum(w, "EnumTypeRefs", e_typerefs, NULL, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        hr = w->imp->lpVtbl->GetTypeRefProps(w->imp, buf[i], &scope, name, CAP, &nl);
        LOG(w, "GetTypeRefProps %08X -> %08X scope=%08X name=%s/%lu", (unsigned)buf[i],
            (unsigned)hr, (unsigned)scope, text(name, nl, t), (unsigned long)nl);
        hr = w->imp->lpVtbl->FindTypeRef(w->imp, scope, name, &found);
        LOG(w, "FindTypeRef %08X %s -> %08X %08X", (unsigned)scope, t, (unsigned)hr,
            (unsigned)found);
        resolve_type_ref(w, buf[i]);
    }
    for (mdToken mr = mdtMemberRef | 1; w->imp->lpVtbl->IsValidToken(w->imp, mr); mr++) {
        hr = w->imp->lpVtbl->GetMemberRefProps(w->imp, mr, &scope, name, CAP, &nl, &sig, &len);
        LOG(w, "GetMemberRefProps %08X -> %08X parent=%08X name=%s/%lu sig=%lu/%016llx",
            (unsigned)mr, (unsigned)hr, (unsigned)scope, text(name, nl, t), (unsigned long)nl,
            (unsigned long)len, fnv(sig, len));
        hr = w->imp->lpVtbl->FindMemberRef(w->imp, scope, name, sig, len, &found);
        LOG(w, "FindMemberRef %08X %s -> %08X %08X", (unsigned)scope, t, (unsigned)hr,
            (unsigned)found);
    }
    n = run_enum(w, "EnumTypeSpecs", e_typespecs, NULL, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        hr = w->imp->lpVtbl->GetTypeSpecFromToken(w->imp, buf[i], &sig, &len);
        LOG(w, "GetTypeSpecFromToken %08X -> %08X %lu/%016llx", (unsigned)buf[i], (unsigned)hr,
            (unsigned long)len, fnv(sig, len));
        run_enum(w, "EnumMemberRefs", e_memberrefs, &buf[i], buf + n, MAX_TOKENS - n);
    }
    n = run_enum(w, "EnumSignatures", e_sigs, NULL, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        hr = w->imp->lpVtbl->GetSigFromToken(w->imp, buf[i], &sig, &len);
        LOG(w, "GetSigFromToken %08X -> %08X %lu/%016llx", (unsigned)buf[i], (unsigned)hr,
            (unsigned long)len, fnv(sig, len));
        /* Only a calli's method signature: CoreCLR reads a local signature as one too,
         * past its end into the next blob (coreclr-observed.md). */
        if (hr == S_OK && len && (sig[0] & IMAGE_CEE_CS_CALLCONV_MASK) != LOCAL_SIG_KIND)
            native_call_conv(w, buf[i], sig, len);
    }
    n = run_enum(w, "EnumModuleRefs", e_modrefs, NULL, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        hr = w->imp->lpVtbl->GetModuleRefProps(w->imp, buf[i], name, CAP, &nl);
        LOG(w, "GetModuleRefProps %08X -> %08X %s/%lu", (unsigned)buf[i], (unsigned)hr,
            text(name, nl, t), (unsigned long)nl);
    }
    n = run_enum(w, "EnumUserStrings", e_ustrings, NULL, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        WCHAR us[CAP];
        ULONG ul = 0;
        hr = w->imp->lpVtbl->GetUserString(w->imp, buf[i], us, CAP, &ul);
        LOG(w, "GetUserString %08X -> %08X %lu/%016llx", (unsigned)buf[i], (unsigned)hr,
            (unsigned long)ul, fnv(us, (ul < CAP ? ul : CAP) * sizeof(WCHAR)));
    }
    mdToken all = 0;
    n = run_enum(w, "EnumMethodSpecs", e_mspecs, &all, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        hr = w->imp->lpVtbl->GetMethodSpecProps(w->imp, buf[i], &scope, &sig, &len);
        LOG(w, "GetMethodSpecProps %08X -> %08X parent=%08X %lu/%016llx", (unsigned)buf[i],
            (unsigned)hr, (unsigned)scope, (unsigned long)len, fnv(sig, len));
    }
}

static void assembly_md(walk *w, const char *what, mdToken tk, HRESULT hr, ASSEMBLYMETADATA *m,
                        const WCHAR *name, ULONG nl, const void *key, ULONG kl, DWORD flags)
{
    char t[CAP], loc[CAP];
    LOG(w, "%s %08X -> %08X name=%s/%lu version=%u.%u.%u.%u locale=%s/%lu procs=%lu oses=%lu "
        "key=%lu/%016llx flags=%X", what, (unsigned)tk, (unsigned)hr, text(name, nl, t),
        (unsigned long)nl, m->usMajorVersion, m->usMinorVersion, m->usBuildNumber,
        m->usRevisionNumber, text(m->szLocale, m->cbLocale, loc), (unsigned long)m->cbLocale,
        (unsigned long)m->ulProcessor, (unsigned long)m->ulOS, (unsigned long)kl, fnv(key, kl),
        (unsigned)flags);
}

static void manifest(walk *w, mdToken *buf)
{
    IMetaDataAssemblyImport *a = w->asm_imp;
    mdToken as = 0, impl = 0, tdid = 0;
    WCHAR name[CAP], locale[CAP];
    ULONG nl = 0, kl = 0, alg = 0, hl = 0;
    DWORD flags = 0, off = 0;
    const void *key = NULL, *hash = NULL;
    char t[CAP];
    HRESULT hr = a->lpVtbl->GetAssemblyFromScope(a, &as);
    LOG(w, "GetAssemblyFromScope -> %08X %08X", (unsigned)hr, (unsigned)as);
    ASSEMBLYMETADATA m = { .szLocale = locale, .cbLocale = CAP };
    hr = a->lpVtbl->GetAssemblyProps(a, as, &key, &kl, &alg, name, CAP, &nl, &m, &flags);
    assembly_md(w, "GetAssemblyProps", as, hr, &m, name, nl, key, kl, flags);
    LOG(w, "GetAssemblyProps hashalg=%lX", (unsigned long)alg);
    ULONG n = run_enum(w, "EnumAssemblyRefs", e_asmrefs, NULL, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        ASSEMBLYMETADATA r = { .szLocale = locale, .cbLocale = CAP };
        hr = a->lpVtbl->GetAssemblyRefProps(a, buf[i], &key, &kl, name, CAP, &nl, &r, &hash, &hl,
                                            &flags);
        assembly_md(w, "GetAssemblyRefProps", buf[i], hr, &r, name, nl, key, kl, flags);
        LOG(w, "GetAssemblyRefProps hash=%lu/%016llx", (unsigned long)hl, fnv(hash, hl));
    }
    n = run_enum(w, "EnumExportedTypes", e_exported, NULL, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        hr = a->lpVtbl->GetExportedTypeProps(a, buf[i], name, CAP, &nl, &impl, &tdid, &flags);
        LOG(w, "GetExportedTypeProps %08X -> %08X name=%s/%lu impl=%08X typedef=%08X flags=%X",
            (unsigned)buf[i], (unsigned)hr, text(name, nl, t), (unsigned long)nl,
            (unsigned)impl, (unsigned)tdid, (unsigned)flags);
        mdToken found = 0;
        hr = a->lpVtbl->FindExportedTypeByName(
            a, name, TypeFromToken(impl) == mdtExportedType ? impl : 0, &found);
        LOG(w, "FindExportedTypeByName %s -> %08X %08X", t, (unsigned)hr, (unsigned)found);
    }
    n = run_enum(w, "EnumManifestResources", e_resources, NULL, buf, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++) {
        hr = a->lpVtbl->GetManifestResourceProps(a, buf[i], name, CAP, &nl, &impl, &off, &flags);
        LOG(w, "GetManifestResourceProps %08X -> %08X name=%s/%lu impl=%08X offset=%lX flags=%X",
            (unsigned)buf[i], (unsigned)hr, text(name, nl, t), (unsigned long)nl,
            (unsigned)impl, (unsigned long)off, (unsigned)flags);
        mdToken found = 0;
        hr = a->lpVtbl->FindManifestResourceByName(a, name, &found);
        LOG(w, "FindManifestResourceByName %s -> %08X %08X", t, (unsigned)hr, (unsigned)found);
    }
    run_enum(w, "EnumFiles", e_files, NULL, buf, MAX_TOKENS);
}

/* Rows that are not there, and a few argument conventions. */
static void edges(walk *w)
{
    IMetaDataImport2 *i = w->imp;
    mdToken tk = 0;
    ULONG n = 99, l = 0;
    WCHAR name[CAP], none[CAP];
    PCCOR_SIGNATURE sig;
    to_wide("No.Such.Type", none);
    LOG(w, "CountEnum NULL -> %08X %lu", (unsigned)i->lpVtbl->CountEnum(i, NULL, &n),
        (unsigned long)n);
    LOG(w, "GetTypeDefProps 02FFFFFF -> %08X",
        (unsigned)i->lpVtbl->GetTypeDefProps(i, 0x02FFFFFF, name, CAP, &l, NULL, NULL));
    LOG(w, "GetMethodProps 06FFFFFF -> %08X",
        (unsigned)i->lpVtbl->GetMethodProps(i, 0x06FFFFFF, NULL, name, CAP, &l, NULL, NULL, NULL,
                                            NULL, NULL));
    LOG(w, "GetFieldProps 04FFFFFF -> %08X",
        (unsigned)i->lpVtbl->GetFieldProps(i, 0x04FFFFFF, NULL, name, CAP, &l, NULL, NULL, NULL,
                                           NULL, NULL, NULL));
    LOG(w, "GetParamProps 08FFFFFF -> %08X",
        (unsigned)i->lpVtbl->GetParamProps(i, 0x08FFFFFF, NULL, NULL, name, CAP, &l, NULL, NULL,
                                           NULL, NULL));
    LOG(w, "GetMemberRefProps 0AFFFFFF -> %08X",
        (unsigned)i->lpVtbl->GetMemberRefProps(i, 0x0AFFFFFF, NULL, name, CAP, &l, NULL, NULL));
    LOG(w, "GetTypeRefProps 01FFFFFF -> %08X",
        (unsigned)i->lpVtbl->GetTypeRefProps(i, 0x01FFFFFF, NULL, name, CAP, &l));
    DWORD flags = 0;
    HRESULT hm = i->lpVtbl->GetTypeDefProps(i, 0x02000001, name, CAP, &l, &flags, &tk);
    LOG(w, "GetTypeDefProps 02000001 (<Module>, no base) -> %08X extends=%08X", (unsigned)hm,
        (unsigned)tk);
    LOG(w, "GetNestedClassProps 02000001 -> %08X",
        (unsigned)i->lpVtbl->GetNestedClassProps(i, 0x02000001, &tk));
    LOG(w, "FindTypeDefByName No.Such.Type -> %08X",
        (unsigned)i->lpVtbl->FindTypeDefByName(i, none, 0, &tk));
    LOG(w, "FindMethod 02000001 No.Such.Type -> %08X",
        (unsigned)i->lpVtbl->FindMethod(i, 0x02000001, none, NULL, 0, &tk));
    LOG(w, "GetTypeSpecFromToken 1BFFFFFF -> %08X",
        (unsigned)i->lpVtbl->GetTypeSpecFromToken(i, 0x1BFFFFFF, &sig, &l));
    LOG(w, "GetSigFromToken 11FFFFFF -> %08X",
        (unsigned)i->lpVtbl->GetSigFromToken(i, 0x11FFFFFF, &sig, &l));
    LOG(w, "GetMethodSpecProps 2BFFFFFF -> %08X",
        (unsigned)i->lpVtbl->GetMethodSpecProps(i, 0x2BFFFFFF, &tk, &sig, &l));
    LOG(w, "GetCustomAttributeProps 0CFFFFFF -> %08X",
        (unsigned)i->lpVtbl->GetCustomAttributeProps(i, 0x0CFFFFFF, &tk, &tk, NULL, NULL));
    LOG(w, "IsValidToken 02000001=%d 02FFFFFF=%d 70000001=%d", i->lpVtbl->IsValidToken(i, 0x02000001),
        i->lpVtbl->IsValidToken(i, 0x02FFFFFF), i->lpVtbl->IsValidToken(i, 0x70000001));
    HRESULT hr = i->lpVtbl->GetUserString(i, 0x70000001, name, 4, &l);
    LOG(w, "GetUserString 70000001 cch=4 -> %08X %lu", (unsigned)hr, (unsigned long)l);
    hr = w->asm_imp->lpVtbl->GetAssemblyRefProps(w->asm_imp, 0x23FFFFFF, NULL, NULL, name, CAP, &l,
                                                 NULL, NULL, NULL, NULL);
    LOG(w, "GetAssemblyRefProps 23FFFFFF -> %08X", (unsigned)hr);
    IUnknown *found[2] = { NULL, NULL };
    ULONG nfound = 0;
    to_wide("System.Runtime", name);
    hr = w->asm_imp->lpVtbl->FindAssembliesByName(w->asm_imp, NULL, NULL, name, found, 2, &nfound);
    LOG(w, "FindAssembliesByName System.Runtime -> %08X", (unsigned)hr);
    for (ULONG k = 0; hr == S_OK && k < nfound && k < 2; k++)
        found[k]->lpVtbl->Release(found[k]);
    resolve_type_ref(w, 0x01000000);
    resolve_type_ref(w, 0x02000001);
    resolve_type_ref(w, 0x01FFFFFF);
    mdToken unresolved[256];
    run_enum(w, "EnumUnresolvedMethods", e_unresolved, NULL, unresolved, 256);
    GUID mvid;
    hr = i->lpVtbl->GetScopeProps(i, name, CAP, &l, &mvid);
    char t[CAP];
    LOG(w, "GetScopeProps -> %08X %s/%lu mvid=%016llx", (unsigned)hr, text(name, l, t),
        (unsigned long)l, fnv(&mvid, sizeof mvid));
    DWORD kind = 9, machine = 9, vl = 0;
    hr = i->lpVtbl->GetPEKind(i, &kind, &machine);
    LOG(w, "GetPEKind -> %08X %lX %lX", (unsigned)hr, (unsigned long)kind, (unsigned long)machine);
    hr = i->lpVtbl->GetVersionString(i, name, CAP, &vl);
    LOG(w, "GetVersionString -> %08X %s/%lu", (unsigned)hr, text(name, vl, t), (unsigned long)vl);
}

static void walk_module(walk *w)
{
    mdToken *buf = malloc(MAX_TOKENS * sizeof *buf);
    mdToken *types = malloc(MAX_TOKENS * sizeof *types);
    if (!buf || !types) {
        prof_check(false, "out of memory");
        free(buf);
        free(types);
        return;
    }
    edges(w);
    manifest(w, buf);
    references(w, buf);
    mdToken module = mdtModule | 1, assembly = mdtAssembly | 1;
    custom_attributes(w, module, buf);
    custom_attributes(w, assembly, buf);
    ULONG n = run_enum(w, "EnumTypeDefs", e_typedefs, NULL, types, MAX_TOKENS);
    for (ULONG i = 0; i < n; i++)
        type_def(w, types[i], buf);
    free(buf);
    free(types);
}

static HRESULT md_initialize(ICorProfilerInfo3 *info)
{
    HRESULT hr = info->lpVtbl->SetEventMask(info, COR_PRF_MONITOR_MODULE_LOADS);
    prof_check(hr == S_OK, "SetEventMask returned 0x%08x", (unsigned)hr);
    return S_OK;
}

/* True when the module's file name is one of MD_PROBE_MODULES; its name in out, and a
 * "PATH <name> <path>" line (the test hands the same files to `ilgraft run`). */
static bool wanted(ICorProfilerInfo3 *info, ModuleID mod, char out[CAP])
{
    WCHAR w[CAP];
    ULONG n = 0;
    LPCBYTE base;
    AssemblyID as;
    char path[CAP];
    const char *list = getenv("MD_PROBE_MODULES");
    if (!list || info->lpVtbl->GetModuleInfo(info, mod, &base, CAP, &n, w, &as) != S_OK)
        return false;
    text(w, n, path);
    const char *slash = strrchr(path, '/');
    snprintf(out, CAP, "%s", slash ? slash + 1 : path);
    size_t len = strlen(out);
    for (const char *p = list; (p = strstr(p, out)) != NULL; p += len)
        if ((p == list || p[-1] == ',') && (p[len] == 0 || p[len] == ',')) {
            prof_log("PATH %s %s", out, path);
            return true;
        }
    return false;
}

static HRESULT md_module_loaded(ICorProfilerInfo3 *info, ModuleID mod)
{
    char name[CAP];
    IUnknown *unk = NULL;
    void *other = NULL;
    walk w = { .mod = name };
    if (!wanted(info, mod, name))
        return S_OK;
    HRESULT hr = info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport2, &unk);
    LOG(&w, "GetModuleMetaData Import2 -> %08X", (unsigned)hr);
    if (hr != S_OK)
        return S_OK;
    w.imp = (IMetaDataImport2 *)unk;
    hr = unk->lpVtbl->QueryInterface(unk, &IID_IMetaDataAssemblyImport, (void **)&w.asm_imp);
    LOG(&w, "QueryInterface AssemblyImport -> %08X", (unsigned)hr);
    if (hr == S_OK) {
        HRESULT back = w.asm_imp->lpVtbl->QueryInterface(w.asm_imp, &IID_IMetaDataImport, &other);
        LOG(&w, "QueryInterface AssemblyImport->Import -> %08X", (unsigned)back);
        if (back == S_OK)
            ((IUnknown *)other)->lpVtbl->Release((IUnknown *)other);
        walk_module(&w);
        w.asm_imp->lpVtbl->Release(w.asm_imp);
    }
    unk->lpVtbl->Release(unk);
    LOG(&w, "%s", "END");
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = md_initialize,
    .module_load_finished = md_module_loaded,
};
