/* abi_conform.h: the ABI probe's conformance calls (abi_conform.c), made when
 * ILG_ABI_PROBE_CONFORM=1, each answer logged as a "CONF" line through probe_log
 * (abi_log.c). */
#ifndef ILG_ABI_CONFORM_H
#define ILG_ABI_CONFORM_H

#include <stdbool.h>

#include "ilgraft/corprof.h"

void probe_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Text helpers (abi_log.c): ASCII into UTF-16 (truncated to cap units with the NUL);
 * the ASCII of a UTF-16 name of n units (a NUL among them ends it), '?' for the rest,
 * returning out. */
void probe_wide(const char *ascii, WCHAR *out, size_t cap);
const char *probe_ascii(const WCHAR *w, ULONG n, char *out, size_t cap);
bool conform_enabled(void);
/* In Initialize, after SetEventMask(mask). */
void conform_initialize(IUnknown *unk, DWORD mask);
/* At ModuleLoadFinished of Hello.dll. */
void conform_module(ICorProfilerInfo15 *info, ModuleID hello);
/* At JITCompilationStarted of Hello.Program::Main (token in hello). */
void conform_main_jit(ICorProfilerInfo15 *info, FunctionID main, ModuleID hello, mdToken token);
/* The call-rule calls (abi_rules.c): at the end of Initialize's conformance calls, and
 * of ModuleLoadFinished's. */
void conform_rules_init(ICorProfilerInfo15 *info);
void conform_rules_callback(ICorProfilerInfo15 *info, ModuleID hello);
/* Inside ThreadAssignedToOSThread, the first time: logged as "RULE" lines, not "CONF"
 * (the host delivers that callback only with --jit-threads > 1). */
void conform_rules_no_trigger(ICorProfilerInfo15 *info);
/* At JITCompilationStarted of Hello.Program::Main, after conform_main_jit: ClassIDs of
 * generic instantiations (abi_generics.c); corelib is System.Private.CoreLib's module. */
void conform_generics(ICorProfilerInfo15 *info, ModuleID hello, ModuleID corelib);
/* At JITCompilationStarted of Hello.Program::Main, after conform_generics: the methods
 * the host cannot answer, about things that do not exist (abi_unsupported.c). */
void conform_unsupported(ICorProfilerInfo15 *info, FunctionID main, ModuleID hello,
                         mdMethodDef main_token);
/* In Initialize: the hooks and mappers CoreCLR accepts only there. */
void conform_unsupported_init(ICorProfilerInfo15 *info);
/* The probe's vtable extended to ICorProfilerCallback11 (abi_callback11.c). */
const ICorProfilerCallback3Vtbl *probe_vtbl_through_11(const ICorProfilerCallback3Vtbl *base);
/* The startup log (abi_startup.c): startup_initialize in Initialize, on its thread;
 * startup_event at each load, domain and thread callback, with the callback's ID
 * (kind 'd' a domain, 't' a thread, 'm' a module, 'a' an assembly, 0 none logged) and
 * a name to log (or NULL). Lines stop after Hello.dll's ModuleLoadFinished. */
void startup_initialize(void);
void startup_event(ICorProfilerInfo3 *info, const char *callback, char kind, UINT_PTR id,
                   const char *name);
/* At Shutdown. */
void conform_shutdown(ICorProfilerInfo15 *info, ModuleID hello, FunctionID main);

#endif
