/* ilgraft/com.h: the basic COM types in C, as the CLR's hosting and profiling ABIs use
 * them on Linux x64: HRESULT and its common values, GUID/IID, the IUnknown vtable, and
 * small GUID helpers. Neutral on purpose: every ilgraft COM header (arena.h, hostmem.h,
 * the profiler's corprof.h) includes this one and nothing else COM-related.
 *
 * Conventions (the CLR's PAL on x64): an object is a struct whose first member points
 * to a vtable of function pointers; every method takes the object first; the calling
 * convention is the platform's (STDMETHODCALLTYPE is empty). HRESULT and BOOL are
 * 32-bit signed, ULONG and DWORD 32-bit unsigned, WCHAR is UTF-16 (not wchar_t).
 * REFIID is a pointer to an IID, as in C (not a C++ reference).
 *
 * The IIDs in the ilgraft headers are static const objects, so including a header in
 * several files never needs a definition elsewhere; compare them with ilg_guid_equal,
 * never by address. */
#ifndef ILGRAFT_COM_H
#define ILGRAFT_COM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t HRESULT;
typedef uint32_t ULONG;
typedef uint32_t DWORD;
typedef int32_t BOOL;
typedef size_t SIZE_T;
typedef uintptr_t UINT_PTR;
typedef uint16_t WCHAR;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

typedef struct GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;
typedef GUID IID;
typedef GUID CLSID;
typedef const GUID *REFGUID;
typedef const IID *REFIID;
typedef const CLSID *REFCLSID;

/* A GUID initialiser from its text form's five groups, e.g.
 * ILG_GUID_INIT(0xA0EFB28B, 0x6EE2, 0x4D7B, 0xB9, 0x83, 0xA7, 0x5E, 0xF7, 0xBE, 0xED, 0xB8)
 * for A0EFB28B-6EE2-4D7B-B983-A75EF7BEEDB8. */
#define ILG_GUID_INIT(d1, d2, d3, b0, b1, b2, b3, b4, b5, b6, b7) \
    { (d1), (d2), (d3), { (b0), (b1), (b2), (b3), (b4), (b5), (b6), (b7) } }

/* HRESULT values shared by the hosting and profiling interfaces. Interface-specific
 * codes (HOST_E_*, CORPROF_E_*) live in the header of their interface. */
#define S_OK            ((HRESULT)0x00000000)
#define S_FALSE         ((HRESULT)0x00000001)
#define E_NOTIMPL       ((HRESULT)0x80004001)
#define E_NOINTERFACE   ((HRESULT)0x80004002)
#define E_POINTER       ((HRESULT)0x80004003)
#define E_FAIL          ((HRESULT)0x80004005)
#define E_OUTOFMEMORY   ((HRESULT)0x8007000E)
#define E_INVALIDARG    ((HRESULT)0x80070057)

#define SUCCEEDED(hr) ((HRESULT)(hr) >= 0)
#define FAILED(hr)    ((HRESULT)(hr) < 0)

/* IUnknown: slots 0 QueryInterface, 1 AddRef, 2 Release, first in every interface. */
typedef struct IUnknown IUnknown;
typedef struct IUnknownVtbl {
    HRESULT (*QueryInterface)(IUnknown *This, REFIID riid, void **ppvObject);
    ULONG (*AddRef)(IUnknown *This);
    ULONG (*Release)(IUnknown *This);
} IUnknownVtbl;
struct IUnknown {
    const IUnknownVtbl *lpVtbl;
};

/* 00000000-0000-0000-C000-000000000046 */
static const IID IID_IUnknown =
    ILG_GUID_INIT(0x00000000, 0x0000, 0x0000, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46);

/* True when a and b are the same GUID (field by field; GUIDs have no padding). */
static inline bool ilg_guid_equal(const GUID *a, const GUID *b)
{
    return a->Data1 == b->Data1 && a->Data2 == b->Data2 && a->Data3 == b->Data3 &&
           memcmp(a->Data4, b->Data4, sizeof a->Data4) == 0;
}

/* The registry text form "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX" (upper case, no
 * braces) into buf, which needs ILG_GUID_TEXT_SIZE bytes. Returns buf. */
#define ILG_GUID_TEXT_SIZE 37
static inline char *ilg_guid_format(const GUID *g, char buf[ILG_GUID_TEXT_SIZE])
{
    snprintf(buf, ILG_GUID_TEXT_SIZE, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
             (unsigned)g->Data1, (unsigned)g->Data2, (unsigned)g->Data3, g->Data4[0],
             g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6],
             g->Data4[7]);
    return buf;
}

#ifdef __cplusplus
}
#endif
#endif
