/* ilgraft/unknwn.h: the basic COM types in C, as the CLR's hosting and profiling ABIs
 * use them on Linux x64: HRESULT and its common values, GUID/IID, the IUnknown vtable.
 * An ABI header: it declares nothing of ilgraft's own API, so a profiler or host
 * written against it (through corprof.h, cor_md.h, mscoree.h) sees only the runtime's
 * names. The Win32 macros are each defined only when not defined yet, so a PAL or
 * Wine header included first wins.
 *
 * Conventions (the CLR's PAL on x64): an object is a struct whose first member points
 * to a vtable of function pointers; every method takes the object first; the calling
 * convention is the platform's (STDMETHODCALLTYPE is empty). HRESULT and BOOL are
 * 32-bit signed, ULONG and DWORD 32-bit unsigned, WCHAR is UTF-16 (not wchar_t).
 * REFIID is a pointer to an IID, as in C (not a C++ reference).
 *
 * The IIDs in these headers are static const objects, so including a header in several
 * files never needs a definition elsewhere; compare them with IsEqualGUID, never by
 * address. */
#ifndef ILGRAFT_UNKNWN_H
#define ILGRAFT_UNKNWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
 * COM_GUID_INIT(0xA0EFB28B, 0x6EE2, 0x4D7B, 0xB9, 0x83, 0xA7, 0x5E, 0xF7, 0xBE, 0xED, 0xB8)
 * for A0EFB28B-6EE2-4D7B-B983-A75EF7BEEDB8. */
#define COM_GUID_INIT(d1, d2, d3, b0, b1, b2, b3, b4, b5, b6, b7) \
    { (d1), (d2), (d3), { (b0), (b1), (b2), (b3), (b4), (b5), (b6), (b7) } }

/* HRESULT values shared by the hosting and profiling interfaces. Interface-specific
 * codes (HOST_E_*, CORPROF_E_*) live in the header of their interface. */
#ifndef S_OK
#define S_OK            ((HRESULT)0x00000000)
#endif
#ifndef S_FALSE
#define S_FALSE         ((HRESULT)0x00000001)
#endif
#ifndef E_NOTIMPL
#define E_NOTIMPL       ((HRESULT)0x80004001)
#endif
#ifndef E_NOINTERFACE
#define E_NOINTERFACE   ((HRESULT)0x80004002)
#endif
#ifndef E_POINTER
#define E_POINTER       ((HRESULT)0x80004003)
#endif
#ifndef E_FAIL
#define E_FAIL          ((HRESULT)0x80004005)
#endif
#ifndef E_OUTOFMEMORY
#define E_OUTOFMEMORY   ((HRESULT)0x8007000E)
#endif
#ifndef E_INVALIDARG
#define E_INVALIDARG    ((HRESULT)0x80070057)
#endif

#ifndef SUCCEEDED
#define SUCCEEDED(hr) ((HRESULT)(hr) >= 0)
#endif
#ifndef FAILED
#define FAILED(hr)    ((HRESULT)(hr) < 0)
#endif

/* The IUnknown slots, typed for interface T (every COM vtable starts with them). */
#define COM_IUNKNOWN_SLOTS(T)                                                  \
    HRESULT (*QueryInterface)(T *This, REFIID riid, void **ppvObject);         \
    ULONG (*AddRef)(T *This);                                                  \
    ULONG (*Release)(T *This);

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
    COM_GUID_INIT(0x00000000, 0x0000, 0x0000, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46);

/* Whether two GUIDs are equal (field by field is byte by byte: GUIDs have no padding). */
#ifndef IsEqualGUID
#define IsEqualGUID(a, b) (memcmp((a), (b), sizeof(GUID)) == 0)
#endif
#ifndef IsEqualIID
#define IsEqualIID(a, b) IsEqualGUID(a, b)
#endif

#ifdef __cplusplus
}
#endif
#endif
