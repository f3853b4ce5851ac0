/* abi_metadata.c: the IMetaDataImport tour of Hello.dll, made at its ModuleLoadFinished:
 * scope, type, method, parameter, string, reference and attribute calls, each answer
 * checked against what Hello.cs declares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_probe.h"

static mdToken find_method(probe *p, IMetaDataImport *md, mdTypeDef td, const char *want,
                           PCCOR_SIGNATURE *sig, ULONG *sig_len, ULONG *rva)
{
    HCORENUM e = NULL;
    mdMethodDef toks[64];
    ULONG n = 0;
    mdToken found = 0;
    HRESULT hr = md->lpVtbl->EnumMethods(md, &e, td, toks, 64, &n);
    probe_expect_hr(p, "EnumMethods", hr, S_OK);
    for (ULONG i = 0; i < n; i++) {
        WCHAR name[NAME_CAP];
        ULONG len = 0;
        DWORD attr, impl;
        mdTypeDef cls = 0;
        hr = md->lpVtbl->GetMethodProps(md, toks[i], &cls, name, NAME_CAP, &len, &attr, sig,
                                        sig_len, rva, &impl);
        if (probe_expect_hr(p, "GetMethodProps", hr, S_OK) && probe_wide_eq(name, want)) {
            if (cls != td)
                probe_fail(p, "GetMethodProps(%s): class 0x%08X, want 0x%08X", want, (unsigned)cls,
                           (unsigned)td);
            found = toks[i];
            break;
        }
    }
    md->lpVtbl->CloseEnum(md, e);
    return found;
}

/* Scope: its name (whole and truncated), MVID and module token. */
static void tour_scope(probe *p, IMetaDataImport *md)
{
    HRESULT hr;
    char buf[NAME_CAP];
    WCHAR name[NAME_CAP];
    ULONG len = 0;

    GUID mvid;
    memset(&mvid, 0, sizeof mvid);
    hr = md->lpVtbl->GetScopeProps(md, name, NAME_CAP, &len, &mvid);
    if (probe_expect_hr(p, "GetScopeProps", hr, S_OK)) {
        char g[GUID_TEXT_SIZE];
        probe_log("MetaData GetScopeProps name=%s mvid=%s", probe_utf8(name, len, buf, sizeof buf),
                  probe_guid_text(&mvid, g));
        if (strcmp(buf, "Hello.dll") != 0)
            probe_fail(p, "GetScopeProps name %s", buf);
        static const GUID zero;
        if (IsEqualGUID(&mvid, &zero))
            probe_fail(p, "GetScopeProps: MVID is all zero");
    }
    /* A name that does not fit is truncated with CLDB_S_TRUNCATION. */
    WCHAR tiny[4];
    ULONG need = 0;
    hr = md->lpVtbl->GetScopeProps(md, tiny, 4, &need, NULL);
    probe_expect_hr(p, "GetScopeProps(4-char buffer)", hr, CLDB_S_TRUNCATION);
    if (need != 10)   /* "Hello.dll" and its NUL */
        probe_fail(p, "GetScopeProps(4-char buffer): length %u, want 10", (unsigned)need);

    mdModule module_tok = 0;
    probe_expect_hr(p, "GetModuleFromScope", md->lpVtbl->GetModuleFromScope(md, &module_tok), S_OK);
    if (module_tok != mdtModule + 1)
        probe_fail(p, "GetModuleFromScope: 0x%08X", (unsigned)module_tok);
}

/* Hello.Program: found by name, its properties and base type, and the TypeDef
 * enumerator (count, reset, re-read); returns its token. */
static mdTypeDef tour_program(probe *p, IMetaDataImport *md)
{
    HRESULT hr;
    char buf[NAME_CAP];
    WCHAR name[NAME_CAP];
    ULONG len = 0;

    mdTypeDef program = 0;
    hr = md->lpVtbl->FindTypeDefByName(md, u"Hello.Program", mdTokenNil, &program);
    probe_expect_hr(p, "FindTypeDefByName(Hello.Program)", hr, S_OK);
    mdTypeDef nothing = 0;
    hr = md->lpVtbl->FindTypeDefByName(md, u"Hello.NoSuchType", mdTokenNil, &nothing);
    probe_expect_hr(p, "FindTypeDefByName(Hello.NoSuchType)", hr, CLDB_E_RECORD_NOTFOUND);

    DWORD flags = 0;
    mdToken extends = 0;
    hr = md->lpVtbl->GetTypeDefProps(md, program, name, NAME_CAP, &len, &flags, &extends);
    if (probe_expect_hr(p, "GetTypeDefProps(Program)", hr, S_OK)) {
        probe_log("MetaData GetTypeDefProps token=0x%08X flags=0x%08X extends=0x%08X name=%s",
                  (unsigned)program, (unsigned)flags, (unsigned)extends,
                  probe_utf8(name, len, buf, sizeof buf));
        if (strcmp(buf, "Hello.Program") != 0)
            probe_fail(p, "GetTypeDefProps(0x%08X) name %s", (unsigned)program, buf);
        /* static class: abstract | sealed (0x80 | 0x100) */
        if ((flags & 0x180) != 0x180)
            probe_fail(p, "GetTypeDefProps(Program) flags 0x%08X lack abstract|sealed",
                       (unsigned)flags);
    }
    if (TypeFromToken(extends) == mdtTypeRef) {
        mdToken scope = 0;
        hr = md->lpVtbl->GetTypeRefProps(md, extends, &scope, name, NAME_CAP, &len);
        if (probe_expect_hr(p, "GetTypeRefProps(base)", hr, S_OK) &&
            strcmp(probe_utf8(name, len, buf, sizeof buf), "System.Object") != 0)
            probe_fail(p, "Hello.Program extends %s, not System.Object", buf);
    } else {
        probe_fail(p, "Hello.Program extends 0x%08X, not a TypeRef", (unsigned)extends);
    }

    /* Enumerators: count, reset, re-read. */
    HCORENUM e = NULL;
    mdTypeDef tds[64];
    ULONG n = 0, total = 0;
    hr = md->lpVtbl->EnumTypeDefs(md, &e, tds, 64, &n);
    probe_expect_hr(p, "EnumTypeDefs", hr, S_OK);
    probe_expect_hr(p, "CountEnum", md->lpVtbl->CountEnum(md, e, &total), S_OK);
    bool has_program = false;
    for (ULONG i = 0; i < n; i++)
        has_program |= tds[i] == program;
    if (!has_program || total != n || n < 2)
        probe_fail(p, "EnumTypeDefs: %u of %u, Program %s", (unsigned)n, (unsigned)total,
                   has_program ? "found" : "missing");
    probe_expect_hr(p, "ResetEnum", md->lpVtbl->ResetEnum(md, e, 0), S_OK);
    mdTypeDef again[64];
    ULONG n2 = 0;
    hr = md->lpVtbl->EnumTypeDefs(md, &e, again, 64, &n2);
    if (!probe_expect_hr(p, "EnumTypeDefs after ResetEnum", hr, S_OK) || n2 != n ||
        memcmp(again, tds, n * sizeof tds[0]) != 0)
        probe_fail(p, "EnumTypeDefs after ResetEnum gave %u tokens, want the same %u", (unsigned)n2,
                   (unsigned)n);
    md->lpVtbl->CloseEnum(md, e);
    probe_log("MetaData EnumTypeDefs count=%u", (unsigned)n);
    return program;
}

/* Main: found by enumeration, by name and signature, its RVA and parameter; Answer by
 * name. Returns Main's token (also in p->main_token), 0 when there is none. */
static mdMethodDef tour_main(probe *p, IMetaDataImport *md, mdTypeDef program)
{
    HRESULT hr;
    HCORENUM e = NULL;
    ULONG n = 0;
    char buf[NAME_CAP];
    WCHAR name[NAME_CAP];
    ULONG len = 0;

    PCCOR_SIGNATURE main_sig = NULL;
    ULONG main_sig_len = 0, main_rva = 0;
    mdMethodDef main_tok = find_method(p, md, program, "Main", &main_sig, &main_sig_len, &main_rva);
    if (!main_tok) {
        probe_fail(p, "EnumMethods(Hello.Program) has no Main");
        return 0;
    }
    pthread_mutex_lock(&p->lock);
    p->main_token = main_tok;
    pthread_mutex_unlock(&p->lock);
    probe_log("MetaData Main token=0x%08X rva=0x%X sig_len=%u", (unsigned)main_tok,
              (unsigned)main_rva, (unsigned)main_sig_len);
    mdMethodDef found = 0;
    hr = md->lpVtbl->FindMethod(md, program, u"Main", main_sig, main_sig_len, &found);
    if (probe_expect_hr(p, "FindMethod(Main, sig)", hr, S_OK) && found != main_tok)
        probe_fail(p, "FindMethod(Main) gave 0x%08X, want 0x%08X", (unsigned)found,
                   (unsigned)main_tok);
    mdToken member = 0;
    hr = md->lpVtbl->FindMember(md, program, u"Main", main_sig, main_sig_len, &member);
    if (probe_expect_hr(p, "FindMember(Main, sig)", hr, S_OK) && member != main_tok)
        probe_fail(p, "FindMember(Main) gave 0x%08X", (unsigned)member);
    ULONG rva = 0;
    DWORD impl = 0;
    hr = md->lpVtbl->GetRVA(md, main_tok, &rva, &impl);
    if (probe_expect_hr(p, "GetRVA(Main)", hr, S_OK) && rva != main_rva)
        probe_fail(p, "GetRVA(Main) 0x%X, GetMethodProps 0x%X", (unsigned)rva, (unsigned)main_rva);

    mdMethodDef answers[4];
    hr = md->lpVtbl->EnumMethodsWithName(md, &e, program, u"Answer", answers, 4, &n);
    if (probe_expect_hr(p, "EnumMethodsWithName(Answer)", hr, S_OK) && n != 1)
        probe_fail(p, "EnumMethodsWithName(Answer): %u methods", (unsigned)n);
    md->lpVtbl->CloseEnum(md, e);

    mdParamDef param = 0;
    hr = md->lpVtbl->GetParamForMethodIndex(md, main_tok, 1, &param);
    if (probe_expect_hr(p, "GetParamForMethodIndex(Main, 1)", hr, S_OK)) {
        mdMethodDef owner = 0;
        ULONG seq = 0;
        DWORD pattr = 0, ctype = 0;
        UVCP_CONSTANT value = NULL;
        ULONG vlen = 0;
        hr = md->lpVtbl->GetParamProps(md, param, &owner, &seq, name, NAME_CAP, &len, &pattr,
                                       &ctype, &value, &vlen);
        if (probe_expect_hr(p, "GetParamProps", hr, S_OK) &&
            (owner != main_tok || seq != 1 ||
             strcmp(probe_utf8(name, len, buf, sizeof buf), "args") != 0))
            probe_fail(p, "GetParamProps: owner 0x%08X seq %u name %s", (unsigned)owner,
                       (unsigned)seq, buf);
    }
    return main_tok;
}

/* Token checks on Main and Program, and Main's locals signature. */
static void tour_tokens(probe *p, ModuleID mod, IMetaDataImport *md, mdTypeDef program,
                        mdMethodDef main_tok)
{
    ICorProfilerInfo3 *info = p->info;
    HRESULT hr;

    if (!md->lpVtbl->IsValidToken(md, main_tok) || md->lpVtbl->IsValidToken(md, 0x06FFFFFFu))
        probe_fail(p, "IsValidToken answers wrongly");
    int global = -1;
    hr = md->lpVtbl->IsGlobal(md, main_tok, &global);
    if (probe_expect_hr(p, "IsGlobal(Main)", hr, S_OK) && global != 0)
        probe_fail(p, "IsGlobal(Main) = %d", global);
    mdTypeDef encloser = 0;
    hr = md->lpVtbl->GetNestedClassProps(md, program, &encloser);
    probe_expect_hr(p, "GetNestedClassProps(Program)", hr, CLDB_E_RECORD_NOTFOUND);
    MDUTF8CSTR utf8name = NULL;
    hr = md->lpVtbl->GetNameFromToken(md, program, &utf8name);
    if (probe_expect_hr(p, "GetNameFromToken(Program)", hr, S_OK) &&
        (!utf8name || strcmp(utf8name, "Program") != 0))
        probe_fail(p, "GetNameFromToken(Program) = %s", utf8name ? utf8name : "(null)");

    /* Main's locals signature through its fat header's LocalVarSigTok. */
    LPCBYTE body = NULL;
    ULONG body_size = 0;
    hr = info->lpVtbl->GetILFunctionBody(info, mod, main_tok, &body, &body_size);
    if (probe_expect_hr(p, "GetILFunctionBody(Main)", hr, S_OK) && body && (body[0] & 3) == 3) {
        mdSignature locals = (mdSignature)(body[8] | body[9] << 8 | body[10] << 16 |
                                           (uint32_t)body[11] << 24);
        PCCOR_SIGNATURE lsig = NULL;
        ULONG lsig_len = 0;
        hr = md->lpVtbl->GetSigFromToken(md, locals, &lsig, &lsig_len);
        if (probe_expect_hr(p, "GetSigFromToken(locals)", hr, S_OK) &&
            (TypeFromToken(locals) != mdtSignature || lsig_len < 2 || lsig[0] != 0x07))
            probe_fail(p, "GetSigFromToken(0x%08X): %u bytes, first 0x%02X", (unsigned)locals,
                       (unsigned)lsig_len, lsig_len ? lsig[0] : 0);
        probe_log("MetaData Main locals=0x%08X", (unsigned)locals);
    } else if (body) {
        probe_fail(p, "Main's header 0x%02X is not fat", body[0]);
    }
}

static void tour_user_strings(probe *p, IMetaDataImport *md)
{
    HRESULT hr;
    ULONG n = 0;
    char buf[NAME_CAP];
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    /* User strings: the greeting is one of them. */
    HCORENUM e = NULL;
    mdString strs[64];
    hr = md->lpVtbl->EnumUserStrings(md, &e, strs, 64, &n);
    probe_expect_hr(p, "EnumUserStrings", hr, S_OK);
    bool greeting = false;
    for (ULONG i = 0; i < n; i++) {
        hr = md->lpVtbl->GetUserString(md, strs[i], name, NAME_CAP, &len);
        if (!probe_expect_hr(p, "GetUserString", hr, S_OK))
            break;
        /* user strings are counted, not NUL-terminated */
        greeting |= strcmp(probe_utf8(name, len, buf, sizeof buf), "Hello from ilgraft") == 0;
    }
    md->lpVtbl->CloseEnum(md, e);
    if (!greeting)
        probe_fail(p, "GetUserString: no \"Hello from ilgraft\" among %u strings", (unsigned)n);
}

static void tour_member_refs(probe *p, IMetaDataImport *md)
{
    HRESULT hr;
    ULONG n = 0;
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    /* System.Console's member refs include WriteLine. */
    HCORENUM e = NULL;
    mdTypeRef trs[128];
    mdTypeRef console = 0;
    mdToken console_scope = 0;
    hr = md->lpVtbl->EnumTypeRefs(md, &e, trs, 128, &n);
    probe_expect_hr(p, "EnumTypeRefs", hr, S_OK);
    for (ULONG i = 0; i < n && !console; i++) {
        mdToken scope = 0;
        hr = md->lpVtbl->GetTypeRefProps(md, trs[i], &scope, name, NAME_CAP, &len);
        if (probe_expect_hr(p, "GetTypeRefProps", hr, S_OK) &&
            probe_wide_eq(name, "System.Console")) {
            console = trs[i];
            console_scope = scope;
        }
    }
    md->lpVtbl->CloseEnum(md, e);
    if (!console) {
        probe_fail(p, "EnumTypeRefs: no System.Console");
    } else {
        mdTypeRef again_tr = 0;
        hr = md->lpVtbl->FindTypeRef(md, console_scope, u"System.Console", &again_tr);
        if (probe_expect_hr(p, "FindTypeRef(System.Console)", hr, S_OK) && again_tr != console)
            probe_fail(p, "FindTypeRef gave 0x%08X, want 0x%08X", (unsigned)again_tr,
                       (unsigned)console);
        e = NULL;
        mdMemberRef mrs[32];
        hr = md->lpVtbl->EnumMemberRefs(md, &e, console, mrs, 32, &n);
        probe_expect_hr(p, "EnumMemberRefs(System.Console)", hr, S_OK);
        bool writeline = false;
        for (ULONG i = 0; i < n; i++) {
            mdToken parent = 0;
            PCCOR_SIGNATURE msig = NULL;
            ULONG msig_len = 0;
            hr = md->lpVtbl->GetMemberRefProps(md, mrs[i], &parent, name, NAME_CAP, &len, &msig,
                                               &msig_len);
            if (!probe_expect_hr(p, "GetMemberRefProps", hr, S_OK))
                break;
            if (parent != console || !msig || msig_len < 3)
                probe_fail(p, "GetMemberRefProps(0x%08X): parent 0x%08X, %u signature bytes",
                           (unsigned)mrs[i], (unsigned)parent, (unsigned)msig_len);
            writeline |= probe_wide_eq(name, "WriteLine");
        }
        md->lpVtbl->CloseEnum(md, e);
        if (!writeline)
            probe_fail(p, "EnumMemberRefs(System.Console): no WriteLine among %u", (unsigned)n);
    }
}

static void tour_attributes(probe *p, IMetaDataImport *md)
{
    HRESULT hr;
    ULONG n = 0;
    /* The assembly's custom attributes: TargetFrameworkAttribute is there. */
    const void *blob = NULL;
    ULONG blob_len = 0;
    hr = md->lpVtbl->GetCustomAttributeByName(md, mdtAssembly + 1,
                                              u"System.Runtime.Versioning.TargetFrameworkAttribute",
                                              &blob, &blob_len);
    if (probe_expect_hr(p, "GetCustomAttributeByName(TargetFramework)", hr, S_OK) &&
        (blob_len < 2 || ((const BYTE *)blob)[0] != 1 || ((const BYTE *)blob)[1] != 0))
        probe_fail(p, "TargetFrameworkAttribute blob: %u bytes", (unsigned)blob_len);
    HCORENUM e = NULL;
    mdCustomAttribute cas[32];
    hr = md->lpVtbl->EnumCustomAttributes(md, &e, mdtAssembly + 1, 0, cas, 32, &n);
    if (probe_expect_hr(p, "EnumCustomAttributes(assembly)", hr, S_OK) && n > 0) {
        mdToken obj = 0, type = 0;
        hr = md->lpVtbl->GetCustomAttributeProps(md, cas[0], &obj, &type, &blob, &blob_len);
        if (probe_expect_hr(p, "GetCustomAttributeProps", hr, S_OK) && obj != mdtAssembly + 1)
            probe_fail(p, "GetCustomAttributeProps: owner 0x%08X", (unsigned)obj);
    }
    md->lpVtbl->CloseEnum(md, e);
}

static void tour_import2(probe *p, IMetaDataImport *md, mdTypeDef program)
{
    HRESULT hr;
    HCORENUM e = NULL;
    ULONG n = 0;
    char buf[NAME_CAP];
    /* IMetaDataImport2 on the same object. */
    IMetaDataImport2 *md2 = NULL;
    hr = md->lpVtbl->QueryInterface(md, &IID_IMetaDataImport2, (void **)&md2);
    if (probe_expect_hr(p, "QueryInterface(IMetaDataImport2)", hr, S_OK)) {
        WCHAR ver[64];
        DWORD vlen = 0;
        hr = md2->lpVtbl->GetVersionString(md2, ver, 64, &vlen);
        if (probe_expect_hr(p, "GetVersionString", hr, S_OK)) {
            probe_log("MetaData GetVersionString %s", probe_utf8(ver, vlen, buf, sizeof buf));
            if (strncmp(buf, "v4.0.30319", 10) != 0)
                probe_fail(p, "GetVersionString: %s", buf);
        }
        DWORD kind = 0xDEAD, machine = 0xDEAD;
        hr = md2->lpVtbl->GetPEKind(md2, &kind, &machine);
        probe_log("MetaData GetPEKind hr=0x%08X kind=0x%X machine=0x%X", (unsigned)hr,
                  (unsigned)kind, (unsigned)machine);
        /* CoreCLR answers S_FALSE with zeros here (its runtime metadata carries no PE
         * header); what matters is that the slot took two out-parameters and wrote them. */
        if (FAILED(hr) || kind == 0xDEAD || machine == 0xDEAD)
            probe_fail(p, "GetPEKind: hr 0x%08X, outputs %s", (unsigned)hr,
                       kind == 0xDEAD || machine == 0xDEAD ? "unwritten" : "written");
        mdGenericParam gps[4];
        hr = md2->lpVtbl->EnumGenericParams(md2, &e, program, gps, 4, &n);
        if (!(hr == S_FALSE && n == 0))
            probe_fail(p, "EnumGenericParams(Program) hr 0x%08X n %u, want S_FALSE and none",
                       (unsigned)hr, (unsigned)n);
        md2->lpVtbl->CloseEnum(md2, e);
        md2->lpVtbl->Release(md2);
    }
}

void metadata_tour(probe *p, ModuleID mod)
{
    ICorProfilerInfo3 *info = p->info;
    IUnknown *unk = NULL;
    HRESULT hr = info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport, &unk);
    if (!probe_expect_hr(p, "GetModuleMetaData(Hello)", hr, S_OK))
        return;
    IMetaDataImport *md = (IMetaDataImport *)unk;
    unsigned before = probe_failures(p);

    tour_scope(p, md);
    mdTypeDef program = tour_program(p, md);
    mdMethodDef main_tok = tour_main(p, md, program);
    /* Without Main the rest would only repeat that failure. */
    if (main_tok) {
        tour_tokens(p, mod, md, program, main_tok);
        tour_user_strings(p, md);
        tour_member_refs(p, md);
        tour_attributes(p, md);
        tour_import2(p, md, program);
    }
    md->lpVtbl->Release(md);
    if (probe_failures(p) == before)
        probe_mark(p, SEEN_METADATA_TOUR);
}
