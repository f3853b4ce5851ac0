/* prof_rewrite.c: a well-behaved IL-rewriting profiler for the harness host. In
 * Initialize it subscribes to load and JIT events (and sets an immutable flag, which
 * only Initialize may do); at each module load it finds every type and method again
 * through IMetaDataImport (FindTypeDefByName, FindMethod must give back the tokens
 * EnumTypeDefs and EnumMethods listed); at each JITCompilationStarted it rewrites the
 * body through the module's IMethodMalloc (a nop in front of tiny bodies, a verbatim
 * copy otherwise) and checks what the host promises: S_OK, a new RVA at or above the
 * image size and below 0x80000000, and GetILFunctionBody returning the new body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prof_common.h"

#define MAX_MODULES 8
static struct {
    ModuleID id;
    const uint8_t *base;
    uint32_t image_size;
} modules[MAX_MODULES];
static int module_count, rewritten, metadata_checked;

static HRESULT rw_initialize(ICorProfilerInfo3 *info)
{
    DWORD mask = COR_PRF_MONITOR_MODULE_LOADS | COR_PRF_MONITOR_ASSEMBLY_LOADS |
                 COR_PRF_MONITOR_APPDOMAIN_LOADS | COR_PRF_MONITOR_JIT_COMPILATION |
                 COR_PRF_DISABLE_ALL_NGEN_IMAGES;
    HRESULT hr = info->lpVtbl->SetEventMask(info, mask);
    prof_check(hr == S_OK, "SetEventMask in Initialize returned 0x%08x", (unsigned)hr);
    /* Every slot of the newest version must be callable, never NULL: the host answers
     * every Info IID with one object. */
    ICorProfilerInfo15 *info15 = NULL;
    hr = info->lpVtbl->QueryInterface(info, &IID_ICorProfilerInfo15, (void **)&info15);
    prof_check(hr == S_OK && info15, "QueryInterface(ICorProfilerInfo15) returned 0x%08x",
               (unsigned)hr);
    if (info15) {
        void *const *slots = (void *const *)info15->lpVtbl;
        for (size_t i = 0; i < sizeof(ICorProfilerInfo15Vtbl) / sizeof(void *); i++)
            prof_check(slots[i] != NULL, "ICorProfilerInfo15 slot %zu is NULL", i);
        info15->lpVtbl->Release(info15);
    }
    /* No managed heap: no ObjectID names an object (CoreCLR's answer for ObjectID 0). */
    hr = info->lpVtbl->GetClassFromObject(info, 0, NULL);
    prof_check(hr == E_INVALIDARG, "GetClassFromObject returned 0x%08x, expected E_INVALIDARG",
               (unsigned)hr);
    return S_OK;
}

static void check_metadata(ICorProfilerInfo3 *info, ModuleID mod)
{
    IMetaDataImport *md = NULL;
    HCORENUM types = NULL;
    mdTypeDef td;
    ULONG got;
    HRESULT hr =
        info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport, (IUnknown **)&md);
    prof_check(hr == S_OK && md, "GetModuleMetaData returned 0x%08x", (unsigned)hr);
    if (!md)
        return;
    void *const *slots = (void *const *)md->lpVtbl;
    for (size_t i = 0; i < sizeof(IMetaDataImportVtbl) / sizeof(void *); i++)
        prof_check(slots[i] != NULL, "IMetaDataImport slot %zu is NULL", i);
    mdModule scope = 0;
    hr = md->lpVtbl->GetModuleFromScope(md, &scope);
    prof_check(hr == S_OK && scope == 0x00000001u, "GetModuleFromScope gave 0x%08x", scope);
    while (md->lpVtbl->EnumTypeDefs(md, &types, &td, 1, &got) == S_OK && got == 1) {
        WCHAR name[512];
        ULONG cch = 0;
        mdTypeDef found = 0;
        HCORENUM methods = NULL;
        mdMethodDef mb;
        hr = md->lpVtbl->GetTypeDefProps(md, td, name, 512, &cch, NULL, NULL);
        prof_check(hr == S_OK && cch > 1, "GetTypeDefProps(0x%08x) returned 0x%08x", td,
                   (unsigned)hr);
        mdTypeDef outer = 0;
        /* Nested types are found through their enclosing type; this walk finds the
         * top-level ones by name (nested ones may share a simple name). */
        hr = md->lpVtbl->FindTypeDefByName(md, name, outer, &found);
        if (hr == S_OK)
            prof_check(found == td, "FindTypeDefByName gave 0x%08x for 0x%08x", found, td);
        while (md->lpVtbl->EnumMethods(md, &methods, td, &mb, 1, &got) == S_OK && got == 1) {
            WCHAR mname[512];
            PCCOR_SIGNATURE sig = NULL;
            ULONG sig_len = 0;
            mdTypeDef owner = 0;
            mdMethodDef again = 0;
            hr = md->lpVtbl->GetMethodProps(md, mb, &owner, mname, 512, &cch, NULL, &sig, &sig_len,
                                            NULL, NULL);
            prof_check(hr == S_OK && owner == td,
                       "GetMethodProps(0x%08x) returned 0x%08x owner 0x%08x", mb, (unsigned)hr,
                       owner);
            hr = md->lpVtbl->FindMethod(md, td, mname, sig, sig_len, &again);
            prof_check(hr == S_OK && again == mb, "FindMethod for 0x%08x gave 0x%08x (0x%08x)", mb,
                       again, (unsigned)hr);
            metadata_checked++;
        }
        md->lpVtbl->CloseEnum(md, methods);
    }
    ULONG ntypes = 0;
    md->lpVtbl->CountEnum(md, types, &ntypes);
    md->lpVtbl->CloseEnum(md, types);
    /* Walk MemberRef and StandAloneSig rows until the importer says the token is past
     * the end (CLDB_E_INDEX_NOTFOUND, as CoreCLR answers); the suite compares the counts
     * with the tables. */
    ULONG refs = 0, sigs = 0;
    for (;; refs++) {
        mdToken parent = 0;
        WCHAR name[256];
        PCCOR_SIGNATURE sig = NULL;
        ULONG sig_len = 0, cch = 0;
        hr = md->lpVtbl->GetMemberRefProps(md, 0x0A000001u + refs, &parent, name, 256, &cch, &sig,
                                           &sig_len);
        if (hr == CLDB_E_INDEX_NOTFOUND)
            break;
        prof_check(SUCCEEDED(hr) && cch > 1 && sig && sig_len > 0 && parent,
                   "GetMemberRefProps(0x%08x) returned 0x%08x", 0x0A000001u + refs, (unsigned)hr);
        if (FAILED(hr))
            break;
    }
    for (;; sigs++) {
        PCCOR_SIGNATURE sig = NULL;
        ULONG sig_len = 0;
        hr = md->lpVtbl->GetSigFromToken(md, 0x11000001u + sigs, &sig, &sig_len);
        if (hr == CLDB_E_INDEX_NOTFOUND)
            break;
        prof_check(hr == S_OK && sig && sig_len > 0, "GetSigFromToken(0x%08x) returned 0x%08x",
                   0x11000001u + sigs, (unsigned)hr);
        if (FAILED(hr))
            break;
    }
    /* The first user string (#US index 1), ASCII only, for the suite to compare. */
    WCHAR us[64];
    ULONG us_len = 0;
    char ascii[65] = "";
    hr = md->lpVtbl->GetUserString(md, 0x70000001u, us, 64, &us_len);
    if (SUCCEEDED(hr)) {
        ULONG n = us_len < 64 ? us_len : 64;
        for (ULONG i = 0; i < n; i++)
            ascii[i] = us[i] < 0x80 ? (char)us[i] : '?';
        ascii[n] = '\0';
    }
    prof_log("metadata typedefs=%u memberrefs=%u standalonesigs=%u us1=\"%s\"", (unsigned)ntypes,
             (unsigned)refs, (unsigned)sigs, ascii);
    /* The one metadata stub (CoreCLR answers E_NOTIMPL too) is callable and says so. */
    IMetaDataAssemblyImport *as = NULL;
    hr = md->lpVtbl->QueryInterface(md, &IID_IMetaDataAssemblyImport, (void **)&as);
    prof_check(hr == S_OK && as, "QueryInterface(IMetaDataAssemblyImport) returned 0x%08x",
               (unsigned)hr);
    if (as) {
        ULONG found = 9;
        const WCHAR name[] = { 'm', 's', 'c', 'o', 'r', 'l', 'i', 'b', 0 };
        hr = as->lpVtbl->FindAssembliesByName(as, NULL, NULL, name, NULL, 0, &found);
        prof_check(hr == E_NOTIMPL, "FindAssembliesByName returned 0x%08x, expected E_NOTIMPL",
                   (unsigned)hr);
        as->lpVtbl->Release(as);
    }
    md->lpVtbl->Release(md);
}

/* The API's edges: bad IDs and tokens, small buffers, methods without IL. */
static void check_edges(ICorProfilerInfo3 *info, ModuleID mod, AssemblyID asm_id)
{
    WCHAR small[4];
    ULONG cch = 0, notil = 0, size = 0;
    LPCBYTE header = NULL;
    HRESULT hr = info->lpVtbl->GetModuleInfo(info, mod, NULL, 4, &cch, small, NULL);
    prof_check(hr == (HRESULT)0x8007007A && cch > 4 && small[3] == 0,
               "GetModuleInfo into 4 chars returned 0x%08x (needs %u)", (unsigned)hr,
               (unsigned)cch);
    hr = info->lpVtbl->GetModuleInfo(info, mod + 1, NULL, 0, NULL, NULL, NULL);
    prof_check(hr == E_INVALIDARG, "GetModuleInfo(bad id) returned 0x%08x", (unsigned)hr);
    hr = info->lpVtbl->GetILFunctionBody(info, mod, 0x02000001, &header, &size);
    prof_check(hr == E_INVALIDARG, "GetILFunctionBody(TypeDef token) returned 0x%08x",
               (unsigned)hr);
    for (mdToken t = 0x06000001;; t++) {
        hr = info->lpVtbl->GetILFunctionBody(info, mod, t, &header, &size);
        if (hr == E_INVALIDARG)
            break;
        if (hr == CORPROF_E_FUNCTION_NOT_IL)
            notil++;
        else
            prof_check(hr == S_OK, "GetILFunctionBody(0x%08x) returned 0x%08x", t, (unsigned)hr);
    }
    WCHAR aname[256];
    AppDomainID domain = 0;
    ModuleID back = 0;
    hr = info->lpVtbl->GetAssemblyInfo(info, asm_id, 256, &cch, aname, &domain, &back);
    prof_check(hr == S_OK && back == mod && domain && cch > 1,
               "GetAssemblyInfo returned 0x%08x", (unsigned)hr);
    char ascii[256];
    for (ULONG i = 0; i < cch && i < 255; i++)
        ascii[i] = aname[i] < 0x80 ? (char)aname[i] : '?';
    ascii[cch < 256 ? cch : 255] = '\0';
    WCHAR dname[64];
    ProcessID pid = 0;
    hr = info->lpVtbl->GetAppDomainInfo(info, domain, 64, &cch, dname, &pid);
    prof_check(hr == S_OK && pid != 0 && cch > 1, "GetAppDomainInfo returned 0x%08x",
               (unsigned)hr);
    ThreadID thread = 0;
    hr = info->lpVtbl->GetCurrentThreadID(info, &thread);
    prof_check(hr == S_OK && thread != 0, "GetCurrentThreadID returned 0x%08x", (unsigned)hr);
    prof_log("edges notil=%u assembly=\"%s\"", (unsigned)notil, ascii);
}

static HRESULT rw_module_load_finished(ICorProfilerInfo3 *info, ModuleID mod)
{
    LPCBYTE base = NULL;
    WCHAR name[1024];
    ULONG cch = 0;
    AssemblyID asm_id = 0;
    HRESULT hr = info->lpVtbl->GetModuleInfo(info, mod, &base, 1024, &cch, name, &asm_id);
    prof_check(hr == S_OK && base && cch > 1 && asm_id, "GetModuleInfo returned 0x%08x",
               (unsigned)hr);
    if (module_count < MAX_MODULES && base) {
        modules[module_count].id = mod;
        modules[module_count].base = base;
        modules[module_count].image_size = prof_pe_image_size(base);
        prof_check(modules[module_count].image_size != 0, "no PE headers at the module base");
        module_count++;
    }
    /* Immutable flags may not change after Initialize: CoreCLR answers E_FAIL. */
    DWORD mask = 0;
    info->lpVtbl->GetEventMask(info, &mask);
    hr = info->lpVtbl->SetEventMask(info, mask & ~COR_PRF_DISABLE_ALL_NGEN_IMAGES);
    prof_check(hr == E_FAIL, "clearing an immutable flag returned 0x%08x, expected E_FAIL",
               (unsigned)hr);
    hr = info->lpVtbl->SetEventMask(info, mask);
    prof_check(hr == S_OK, "SetEventMask with the same immutable flags returned 0x%08x",
               (unsigned)hr);
    check_metadata(info, mod);
    check_edges(info, mod, asm_id);
    return S_OK;
}

/* Whether tok or its type has generic parameters (CoreCLR gives such a method no
 * FunctionID of its own: GetFunctionFromToken answers CORPROF_E_FUNCTION_IS_PARAMETERIZED). */
static bool parameterized(ICorProfilerInfo3 *info, ModuleID mod, mdMethodDef tok)
{
    IMetaDataImport2 *md = NULL;
    mdTypeDef owner = 0;
    bool generic = false;
    if (info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport2,
                                        (IUnknown **)&md) != S_OK)
        return false;
    md->lpVtbl->GetMethodProps(md, tok, &owner, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL);
    mdToken owners[2] = { tok, owner };
    for (int i = 0; i < 2 && !generic; i++) {
        HCORENUM e = NULL;
        mdGenericParam gp;
        ULONG n = 0;
        generic = md->lpVtbl->EnumGenericParams(md, &e, owners[i], &gp, 1, &n) == S_OK && n == 1;
        md->lpVtbl->CloseEnum(md, e);
    }
    md->lpVtbl->Release(md);
    return generic;
}

static HRESULT rw_jit_started(ICorProfilerInfo3 *info, FunctionID fid)
{
    ClassID cls;
    ModuleID mod = 0;
    mdToken tok = 0;
    FunctionID back = 0;
    LPCBYTE header = NULL, now = NULL;
    ULONG size = 0, now_size = 0;
    IMethodMalloc *alloc = NULL;
    int mi;
    HRESULT hr = info->lpVtbl->GetFunctionInfo(info, fid, &cls, &mod, &tok);
    prof_check(hr == S_OK && (tok >> 24) == 0x06, "GetFunctionInfo returned 0x%08x", (unsigned)hr);
    hr = info->lpVtbl->GetFunctionFromToken(info, mod, tok, &back);
    if (parameterized(info, mod, tok))
        prof_check(hr == CORPROF_E_FUNCTION_IS_PARAMETERIZED,
                   "GetFunctionFromToken(0x%08x) of a generic method: 0x%08x", tok, (unsigned)hr);
    else
        prof_check(hr == S_OK && back == fid, "GetFunctionFromToken(0x%08x) gave another function",
                   tok);
    for (mi = 0; mi < module_count && modules[mi].id != mod; mi++)
        ;
    prof_check(mi < module_count, "JIT for a module that never loaded");
    if (mi == module_count)
        return S_OK;
    hr = info->lpVtbl->GetILFunctionBody(info, mod, tok, &header, &size);
    prof_check(hr == S_OK && header && size, "GetILFunctionBody(0x%08x) returned 0x%08x", tok,
               (unsigned)hr);
    if (hr != S_OK)
        return S_OK;
    hr = info->lpVtbl->GetILFunctionBodyAllocator(info, mod, &alloc);
    prof_check(hr == S_OK && alloc, "GetILFunctionBodyAllocator returned 0x%08x", (unsigned)hr);
    if (!alloc)
        return S_OK;
    bool tiny = (header[0] & 3) == 2;
    ULONG code = tiny ? header[0] >> 2 : 0;
    ULONG new_size = tiny && code < 63 ? size + 1 : size;
    uint8_t *p = alloc->lpVtbl->Alloc(alloc, new_size);
    prof_check(p != NULL, "IMethodMalloc::Alloc(%u) returned NULL", (unsigned)new_size);
    if (p) {
        if (new_size != size) {
            p[0] = (uint8_t)(((code + 1) << 2) | 2);
            p[1] = 0x00; /* nop */
            memcpy(p + 2, header + 1, code);
        } else {
            memcpy(p, header, size);
        }
        hr = info->lpVtbl->SetILFunctionBody(info, mod, tok, p);
        prof_check(hr == S_OK, "SetILFunctionBody(0x%08x) returned 0x%08x", tok, (unsigned)hr);
        uintptr_t rva = (uintptr_t)(p - modules[mi].base);
        prof_check(p > modules[mi].base && rva >= modules[mi].image_size && rva < 0x80000000u,
                   "new body of 0x%08x at RVA 0x%llx: not in [image size 0x%x, 0x80000000)", tok,
                   (unsigned long long)rva, modules[mi].image_size);
        hr = info->lpVtbl->GetILFunctionBody(info, mod, tok, &now, &now_size);
        prof_check(hr == S_OK && now == p && now_size == new_size,
                   "GetILFunctionBody after the rewrite: %p/%u, expected %p/%u", (const void *)now,
                   (unsigned)now_size, (void *)p, (unsigned)new_size);
        if (hr == S_OK)
            rewritten++;
        prof_log("rewrote 0x%08x rva=0x%llx size=%u", tok, (unsigned long long)rva,
                 (unsigned)new_size);
    }
    alloc->lpVtbl->Release(alloc);
    return S_OK;
}

static HRESULT rw_shutdown(ICorProfilerInfo3 *info)
{
    prof_log("modules=%d rewritten=%d metadata_checked=%d", module_count, rewritten,
             metadata_checked);
    prof_check(rewritten > 0, "nothing was rewritten");
    prof_check(metadata_checked > 0, "no method was found through IMetaDataImport");
    return S_OK;
}

const prof_hooks prof_test_hooks = {
    .initialize = rw_initialize,
    .module_load_finished = rw_module_load_finished,
    .jit_started = rw_jit_started,
    .shutdown = rw_shutdown,
};
