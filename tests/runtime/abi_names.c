/* abi_names.c: what a FunctionID, a module or an object is, asked through
 * ICorProfilerInfo3 and IMetaDataImport (the answers are themselves checked). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_probe.h"

/* Module file name (base name) of a module; "" when the call fails. */
void module_base_name(probe *p, ModuleID mod, char *out, size_t cap)
{
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    LPCBYTE base = NULL;
    AssemblyID asm_id = 0;
    char path[NAME_CAP];
    out[0] = 0;
    HRESULT hr = p->info->lpVtbl->GetModuleInfo(p->info, mod, &base, NAME_CAP, &len, name, &asm_id);
    if (!probe_expect_hr(p, "GetModuleInfo", hr, S_OK))
        return;
    snprintf(out, cap, "%s", probe_base_name(probe_utf8(name, len, path, sizeof path)));
}

/* Type name of a TypeDef through an IMetaDataImport. */
bool type_name(probe *p, IMetaDataImport *md, mdTypeDef td, char *out, size_t cap)
{
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    DWORD flags = 0;
    mdToken extends = 0;
    HRESULT hr = md->lpVtbl->GetTypeDefProps(md, td, name, NAME_CAP, &len, &flags, &extends);
    if (!probe_expect_hr(p, "GetTypeDefProps", hr, S_OK)) {
        snprintf(out, cap, "?");
        return false;
    }
    probe_utf8(name, len, out, cap);
    return true;
}

/* Everything about a FunctionID, through GetFunctionInfo, GetTokenAndMetaDataFromFunction,
 * GetMethodProps, GetTypeDefProps and GetModuleInfo; the two token sources must agree. */
bool describe_function(probe *p, FunctionID fid, method_desc *d)
{
    memset(d, 0, sizeof *d);
    ICorProfilerInfo3 *info = p->info;
    mdToken tok = 0;
    HRESULT hr = info->lpVtbl->GetFunctionInfo(info, fid, &d->klass, &d->module, &tok);
    if (!probe_expect_hr(p, "GetFunctionInfo", hr, S_OK))
        return false;
    IUnknown *unk = NULL;
    mdToken tok2 = 0;
    hr =
        info->lpVtbl->GetTokenAndMetaDataFromFunction(info, fid, &IID_IMetaDataImport, &unk, &tok2);
    if (!probe_expect_hr(p, "GetTokenAndMetaDataFromFunction", hr, S_OK))
        return false;
    if (tok != tok2 || TypeFromToken(tok) != mdtMethodDef)
        probe_fail(
            p, "fid 0x%lx: GetFunctionInfo token 0x%08X, GetTokenAndMetaDataFromFunction 0x%08X",
            (unsigned long)fid, (unsigned)tok, (unsigned)tok2);
    d->token = tok2;
    IMetaDataImport *md = (IMetaDataImport *)unk;
    WCHAR name[NAME_CAP];
    ULONG len = 0, sig_len = 0;
    DWORD attr = 0, impl = 0;
    PCCOR_SIGNATURE sig = NULL;
    hr = md->lpVtbl->GetMethodProps(md, d->token, &d->type_token, name, NAME_CAP, &len, &attr, &sig,
                                    &sig_len, &d->rva, &impl);
    bool ok = probe_expect_hr(p, "GetMethodProps", hr, S_OK);
    if (ok) {
        probe_utf8(name, len, d->method, sizeof d->method);
        if (!sig || sig_len == 0)
            probe_fail(p, "GetMethodProps(0x%08X) gave no signature", (unsigned)d->token);
        if (TypeFromToken(d->type_token) != mdtTypeDef)
            probe_fail(p, "GetMethodProps(0x%08X) class token 0x%08X", (unsigned)d->token,
                       (unsigned)d->type_token);
        else if (RidFromToken(d->type_token) == 1)
            snprintf(d->type, sizeof d->type, "<Module>");
        else
            ok = type_name(p, md, d->type_token, d->type, sizeof d->type);
    }
    md->lpVtbl->Release(md);
    module_base_name(p, d->module, d->module_name, sizeof d->module_name);
    snprintf(d->full, sizeof d->full, "%s::%s", d->type, d->method);
    return ok;
}

bool is_hello(const method_desc *d, const char *full)
{
    return strcmp(d->module_name, "Hello.dll") == 0 && strcmp(d->full, full) == 0;
}

/* Class of an object, as module + type name (GetClassFromObject, GetClassIDInfo,
 * GetModuleMetaData, GetTypeDefProps). */
bool object_type(probe *p, ObjectID obj, ClassID *klass, char *out, size_t cap)
{
    ICorProfilerInfo3 *info = p->info;
    ClassID cls = 0;
    ModuleID mod = 0;
    mdTypeDef td = 0;
    snprintf(out, cap, "?");
    if (!probe_expect_hr(p, "GetClassFromObject", info->lpVtbl->GetClassFromObject(info, obj, &cls),
                         S_OK))
        return false;
    if (klass)
        *klass = cls;
    HRESULT hr = info->lpVtbl->GetClassIDInfo(info, cls, &mod, &td);
    if (!probe_expect_hr(p, "GetClassIDInfo", hr, S_OK))
        return false;
    IUnknown *unk = NULL;
    hr = info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport, &unk);
    if (!probe_expect_hr(p, "GetModuleMetaData", hr, S_OK))
        return false;
    IMetaDataImport *md = (IMetaDataImport *)unk;
    bool ok = type_name(p, md, td, out, cap);
    md->lpVtbl->Release(md);
    return ok;
}
