/* abi_loads.c: the app domain, assembly, module and class callbacks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "abi_probe.h"

HRESULT cb_AppDomainCreationStarted(ICorProfilerCallback3 *iface, AppDomainID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 5);
    probe_log("AppDomainCreationStarted id=0x%lx", (unsigned long)id);
    startup_event(p->info, "AppDomainCreationStarted", 'd', id, NULL);
    return S_OK;
}

HRESULT cb_AppDomainCreationFinished(ICorProfilerCallback3 *iface, AppDomainID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    ProcessID pid = 0;
    char buf[NAME_CAP];
    probe_count(p, 6);
    probe_expect_hr(p, "AppDomainCreationFinished status", st, S_OK);
    HRESULT hr = info->lpVtbl->GetAppDomainInfo(info, id, NAME_CAP, &len, name, &pid);
    if (probe_expect_hr(p, "GetAppDomainInfo", hr, S_OK)) {
        probe_log("AppDomainCreationFinished id=0x%lx hr=0x%08X pid=%lu name=%s", (unsigned long)id,
                  (unsigned)st, (unsigned long)pid, probe_utf8(name, len, buf, sizeof buf));
        if (pid != (ProcessID)getpid())
            probe_fail(p, "GetAppDomainInfo: process id %lu, getpid() %d", (unsigned long)pid,
                       (int)getpid());
        else
            probe_mark(p, SEEN_APPDOMAIN);
    }
    startup_event(info, "AppDomainCreationFinished", 'd', id, NULL);
    return S_OK;
}

HRESULT cb_AppDomainShutdownStarted(ICorProfilerCallback3 *iface, AppDomainID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 7);
    probe_log("AppDomainShutdownStarted id=0x%lx", (unsigned long)id);
    return S_OK;
}

HRESULT cb_AppDomainShutdownFinished(ICorProfilerCallback3 *iface, AppDomainID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 8);
    probe_log("AppDomainShutdownFinished id=0x%lx hr=0x%08X", (unsigned long)id, (unsigned)st);
    return S_OK;
}

HRESULT cb_AssemblyLoadStarted(ICorProfilerCallback3 *iface, AssemblyID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 9);
    probe_log("AssemblyLoadStarted id=0x%lx", (unsigned long)id);
    startup_event(p->info, "AssemblyLoadStarted", 0, id, NULL);
    return S_OK;
}

HRESULT cb_AssemblyLoadFinished(ICorProfilerCallback3 *iface, AssemblyID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    AppDomainID ad = 0;
    ModuleID mod = 0;
    char buf[NAME_CAP], modname[NAME_CAP];
    probe_count(p, 10);
    probe_expect_hr(p, "AssemblyLoadFinished status", st, S_OK);
    HRESULT hr = info->lpVtbl->GetAssemblyInfo(info, id, NAME_CAP, &len, name, &ad, &mod);
    if (!probe_expect_hr(p, "GetAssemblyInfo", hr, S_OK))
        return S_OK;
    probe_utf8(name, len, buf, sizeof buf);
    module_base_name(p, mod, modname, sizeof modname);
    probe_log("AssemblyLoadFinished id=0x%lx hr=0x%08X appdomain=0x%lx module=0x%lx module_name=%s "
              "name=%s",
              (unsigned long)id, (unsigned)st, (unsigned long)ad, (unsigned long)mod, modname, buf);
    startup_event(info, "AssemblyLoadFinished", 'a', id, modname);
    if (strcmp(buf, "Hello") == 0) {
        if (strcmp(modname, "Hello.dll") != 0)
            probe_fail(p, "assembly Hello's manifest module is %s", modname);
        else
            probe_mark(p, SEEN_HELLO_ASSEMBLY);
    }
    return S_OK;
}

HRESULT cb_AssemblyUnloadStarted(ICorProfilerCallback3 *iface, AssemblyID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 11);
    probe_log("AssemblyUnloadStarted id=0x%lx", (unsigned long)id);
    return S_OK;
}

HRESULT cb_AssemblyUnloadFinished(ICorProfilerCallback3 *iface, AssemblyID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 12);
    probe_log("AssemblyUnloadFinished id=0x%lx hr=0x%08X", (unsigned long)id, (unsigned)st);
    return S_OK;
}

HRESULT cb_ModuleLoadStarted(ICorProfilerCallback3 *iface, ModuleID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 13);
    probe_log("ModuleLoadStarted id=0x%lx", (unsigned long)id);
    startup_event(p->info, "ModuleLoadStarted", 0, id, NULL);
    return S_OK;
}

HRESULT cb_ModuleLoadFinished(ICorProfilerCallback3 *iface, ModuleID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    WCHAR name[NAME_CAP], name2[NAME_CAP];
    ULONG len = 0, len2 = 0;
    LPCBYTE base = NULL, base2 = NULL;
    AssemblyID asm_id = 0, asm_id2 = 0;
    DWORD flags = 0;
    char path[NAME_CAP], path2[NAME_CAP];
    probe_count(p, 14);
    probe_expect_hr(p, "ModuleLoadFinished status", st, S_OK);
    HRESULT hr = info->lpVtbl->GetModuleInfo(info, id, &base, NAME_CAP, &len, name, &asm_id);
    if (!probe_expect_hr(p, "GetModuleInfo", hr, S_OK))
        return S_OK;
    hr = info->lpVtbl->GetModuleInfo2(info, id, &base2, NAME_CAP, &len2, name2, &asm_id2, &flags);
    probe_expect_hr(p, "GetModuleInfo2", hr, S_OK);
    probe_utf8(name, len, path, sizeof path);
    probe_utf8(name2, len2, path2, sizeof path2);
    if (base != base2 || strcmp(path, path2) != 0 || len != len2)
        probe_fail(p, "GetModuleInfo and GetModuleInfo2 disagree on module 0x%lx",
                   (unsigned long)id);
    if (len != strlen(path) + 1)
        probe_fail(p, "GetModuleInfo: length %u for a %zu-character name", (unsigned)len,
                   strlen(path));
    probe_log("ModuleLoadFinished id=0x%lx hr=0x%08X base=%p flags=0x%X name=%s", (unsigned long)id,
              (unsigned)st, (const void *)base, (unsigned)flags, path);
    const char *file = probe_base_name(path);
    startup_event(info, "ModuleLoadFinished", 'm', id, file);
    if (strcmp(file, "System.Private.CoreLib.dll") == 0 && base) {
        pthread_mutex_lock(&p->lock);
        p->corelib_module = id;
        pthread_mutex_unlock(&p->lock);
        probe_mark(p, SEEN_CORELIB_LOADED);
    } else if (strcmp(file, "Hello.dll") == 0 && base) {
        if (!(flags & COR_PRF_MODULE_DISK))
            probe_fail(p, "Hello.dll module flags 0x%X lack COR_PRF_MODULE_DISK", (unsigned)flags);
        pthread_mutex_lock(&p->lock);
        p->hello_module = id;
        pthread_mutex_unlock(&p->lock);
        probe_mark(p, SEEN_HELLO_LOADED);
        if (p->info15)
            conform_module(p->info15, id);
        metadata_tour(p, id);
        /* The body allocator: a module-specific IMethodMalloc. */
        IMethodMalloc *alloc = NULL;
        hr = info->lpVtbl->GetILFunctionBodyAllocator(info, id, &alloc);
        if (probe_expect_hr(p, "GetILFunctionBodyAllocator", hr, S_OK)) {
            void *mem = alloc->lpVtbl->Alloc(alloc, 64);
            void *zero = alloc->lpVtbl->Alloc(alloc, 0);
            long long delta = mem ? (long long)((uintptr_t)mem - (uintptr_t)base) : 0;
            probe_log("MethodMalloc Alloc(64)=%p offset_from_base=%lld Alloc(0)=%p", mem, delta,
                      zero);
            if (!mem)
                probe_fail(p, "IMethodMalloc::Alloc(64) gave NULL");
            else
                memset(mem, 0, 64);   /* it must be writable memory */
            alloc->lpVtbl->Release(alloc);
        }
    }
    return S_OK;
}

HRESULT cb_ModuleUnloadStarted(ICorProfilerCallback3 *iface, ModuleID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 15);
    probe_log("ModuleUnloadStarted id=0x%lx", (unsigned long)id);
    return S_OK;
}

HRESULT cb_ModuleUnloadFinished(ICorProfilerCallback3 *iface, ModuleID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 16);
    probe_log("ModuleUnloadFinished id=0x%lx hr=0x%08X", (unsigned long)id, (unsigned)st);
    return S_OK;
}

HRESULT cb_ModuleAttachedToAssembly(ICorProfilerCallback3 *iface, ModuleID mod, AssemblyID asm_id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    AppDomainID ad = 0;
    ModuleID manifest = 0;
    char buf[NAME_CAP], modname[NAME_CAP];
    probe_count(p, 17);
    module_base_name(p, mod, modname, sizeof modname);
    HRESULT hr = info->lpVtbl->GetAssemblyInfo(info, asm_id, NAME_CAP, &len, name, &ad, &manifest);
    if (!probe_expect_hr(p, "GetAssemblyInfo", hr, S_OK))
        return S_OK;
    probe_log(
        "ModuleAttachedToAssembly module=0x%lx assembly=0x%lx module_name=%s assembly_name=%s",
        (unsigned long)mod, (unsigned long)asm_id, modname, probe_utf8(name, len, buf, sizeof buf));
    startup_event(info, "ModuleAttachedToAssembly", 'm', mod, modname);
    if (strcmp(modname, "Hello.dll") == 0) {
        if (strcmp(buf, "Hello") != 0 || manifest != mod)
            probe_fail(p, "Hello.dll attached to assembly %s (manifest module 0x%lx)", buf,
                       (unsigned long)manifest);
        else
            probe_mark(p, SEEN_HELLO_ATTACHED);
    }
    return S_OK;
}

HRESULT cb_ClassLoadStarted(ICorProfilerCallback3 *iface, ClassID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 18);
    probe_log("ClassLoadStarted id=0x%lx", (unsigned long)id);
    return S_OK;
}

HRESULT cb_ClassLoadFinished(ICorProfilerCallback3 *iface, ClassID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    ModuleID mod = 0;
    mdTypeDef td = 0;
    probe_count(p, 19);
    HRESULT hr = info->lpVtbl->GetClassIDInfo(info, id, &mod, &td);
    probe_log("ClassLoadFinished id=0x%lx hr=0x%08X info_hr=0x%08X module=0x%lx token=0x%08X",
              (unsigned long)id, (unsigned)st, (unsigned)hr, (unsigned long)mod, (unsigned)td);
    if (hr == S_OK && mod && mod == p->hello_module) {
        IUnknown *unk = NULL;
        char name[NAME_CAP];
        hr = info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport, &unk);
        if (probe_expect_hr(p, "GetModuleMetaData", hr, S_OK)) {
            IMetaDataImport *md = (IMetaDataImport *)unk;
            if (type_name(p, md, td, name, sizeof name)) {
                probe_log("ClassLoadFinished hello_type=%s", name);
                if (strcmp(name, "Hello.Program") == 0)
                    probe_mark(p, SEEN_CLASS_PROGRAM);
            }
            md->lpVtbl->Release(md);
        }
    }
    return S_OK;
}

HRESULT cb_ClassUnloadStarted(ICorProfilerCallback3 *iface, ClassID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 20);
    probe_log("ClassUnloadStarted id=0x%lx", (unsigned long)id);
    return S_OK;
}

HRESULT cb_ClassUnloadFinished(ICorProfilerCallback3 *iface, ClassID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 21);
    probe_log("ClassUnloadFinished id=0x%lx hr=0x%08X", (unsigned long)id, (unsigned)st);
    return S_OK;
}

HRESULT cb_FunctionUnloadStarted(ICorProfilerCallback3 *iface, FunctionID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    probe_count(p, 22);
    probe_log("FunctionUnloadStarted fid=0x%lx", (unsigned long)id);
    return S_OK;
}
