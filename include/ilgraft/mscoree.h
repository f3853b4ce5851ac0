/* ilgraft/mscoree.h: the CLR hosting ABI's memory interfaces in plain C (mscoree.idl):
 * IHostMemoryManager, the IHostMalloc heaps its CreateMalloc hands out,
 * ICLRMemoryNotificationCallback, and their Win32 vocabulary (MEM_*, PAGE_*,
 * MEMORY_BASIC_INFORMATION). An ABI header: nothing of ilgraft's API is declared here
 * (ilgraft's implementation is hostmem.h); every Win32 macro is defined only when no
 * PAL or Wine header defined it first. Slots are numbered in corprof_slots.def. */
#ifndef ILGRAFT_MSCOREE_H
#define ILGRAFT_MSCOREE_H

#include "ilgraft/unknwn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum EMemoryCriticalLevel {
    eTaskCritical = 0,
    eAppDomainCritical = 1,
    eProcessCritical = 2
} EMemoryCriticalLevel;

typedef enum EMemoryAvailable {
    eMemoryAvailableLow = 1,
    eMemoryAvailableNeutral = 2,
    eMemoryAvailableHigh = 3
} EMemoryAvailable;

/* MALLOC_TYPE flags for CreateMalloc. */
#ifndef MALLOC_THREADSAFE
#define MALLOC_THREADSAFE 0x1
#endif
#ifndef MALLOC_EXECUTABLE
#define MALLOC_EXECUTABLE 0x2
#endif

/* Free of memory the heap did not allocate (corerror.h). */
#ifndef HOST_E_INVALIDOPERATION
#define HOST_E_INVALIDOPERATION ((HRESULT)0x80131022)
#endif

/* VirtualQuery's answer, laid out as on Windows x64; declared here only when no
 * platform header did (Wine and the PAL define MEM_COMMIT with it). */
#ifndef MEM_COMMIT
typedef struct MEMORY_BASIC_INFORMATION {
    void *BaseAddress;         /* the page containing the queried address */
    void *AllocationBase;      /* the VirtualAlloc reservation, or the mapping's start */
    DWORD AllocationProtect;   /* PAGE_* the reservation was made with */
    uint16_t PartitionId;
    SIZE_T RegionSize;         /* bytes from BaseAddress with the same state and protection */
    DWORD State;               /* MEM_COMMIT, MEM_RESERVE or MEM_FREE */
    DWORD Protect;             /* PAGE_* (0 when not committed) */
    DWORD Type;                /* MEM_PRIVATE, MEM_MAPPED (0 when free) */
} MEMORY_BASIC_INFORMATION;
#endif

/* The Win32 vocabulary of VirtualAlloc, VirtualFree, VirtualQuery and VirtualProtect. */
#ifndef MEM_COMMIT
#define MEM_COMMIT      0x00001000
#endif
#ifndef MEM_RESERVE
#define MEM_RESERVE     0x00002000
#endif
#ifndef MEM_DECOMMIT
#define MEM_DECOMMIT    0x00004000
#endif
#ifndef MEM_RELEASE
#define MEM_RELEASE     0x00008000
#endif
#ifndef MEM_FREE
#define MEM_FREE        0x00010000
#endif
#ifndef MEM_PRIVATE
#define MEM_PRIVATE     0x00020000
#endif
#ifndef MEM_MAPPED
#define MEM_MAPPED      0x00040000
#endif
#ifndef MEM_RESET
#define MEM_RESET       0x00080000
#endif
#ifndef MEM_TOP_DOWN
#define MEM_TOP_DOWN    0x00100000
#endif
#ifndef MEM_IMAGE
#define MEM_IMAGE       0x01000000
#endif
#ifndef PAGE_NOACCESS
#define PAGE_NOACCESS          0x01
#endif
#ifndef PAGE_READONLY
#define PAGE_READONLY          0x02
#endif
#ifndef PAGE_READWRITE
#define PAGE_READWRITE         0x04
#endif
#ifndef PAGE_WRITECOPY
#define PAGE_WRITECOPY         0x08
#endif
#ifndef PAGE_EXECUTE
#define PAGE_EXECUTE           0x10
#endif
#ifndef PAGE_EXECUTE_READ
#define PAGE_EXECUTE_READ      0x20
#endif
#ifndef PAGE_EXECUTE_READWRITE
#define PAGE_EXECUTE_READWRITE 0x40
#endif
#ifndef PAGE_EXECUTE_WRITECOPY
#define PAGE_EXECUTE_WRITECOPY 0x80
#endif

/* ICLRMemoryNotificationCallback: how a host tells the CLR about memory pressure. */
typedef struct ICLRMemoryNotificationCallback ICLRMemoryNotificationCallback;
typedef struct ICLRMemoryNotificationCallbackVtbl {
    HRESULT (*QueryInterface)(ICLRMemoryNotificationCallback *This, REFIID riid, void **ppvObject);
    ULONG (*AddRef)(ICLRMemoryNotificationCallback *This);
    ULONG (*Release)(ICLRMemoryNotificationCallback *This);
    HRESULT (*OnMemoryNotification)(ICLRMemoryNotificationCallback *This,
                                    EMemoryAvailable eMemoryAvailable);
} ICLRMemoryNotificationCallbackVtbl;
struct ICLRMemoryNotificationCallback {
    const ICLRMemoryNotificationCallbackVtbl *lpVtbl;
};

/* IHostMalloc (slots 3 Alloc, 4 DebugAlloc, 5 Free). Alloc and DebugAlloc: S_OK with
 * *ppMem set; E_INVALIDARG when ppMem is NULL; E_OUTOFMEMORY with *ppMem NULL when the
 * memory is not there or the fault policy says no. A size of 0 gives a unique live
 * allocation, as malloc(0) may. Free: S_OK (also for NULL); HOST_E_INVALIDOPERATION
 * for a pointer that is not a live allocation of this heap, which is counted and
 * recorded, never dereferenced (ilgraft's implementation: hostmem.h). */
typedef struct IHostMalloc IHostMalloc;
typedef struct IHostMallocVtbl {
    HRESULT (*QueryInterface)(IHostMalloc *This, REFIID riid, void **ppvObject);
    ULONG (*AddRef)(IHostMalloc *This);
    ULONG (*Release)(IHostMalloc *This);
    HRESULT (*Alloc)(IHostMalloc *This, SIZE_T cbSize, EMemoryCriticalLevel eCriticalLevel,
                     void **ppMem);
    HRESULT (*DebugAlloc)(IHostMalloc *This, SIZE_T cbSize, EMemoryCriticalLevel eCriticalLevel,
                          char *pszFileName, int iLineNo, void **ppMem);
    HRESULT (*Free)(IHostMalloc *This, void *pMem);
} IHostMallocVtbl;
struct IHostMalloc {
    const IHostMallocVtbl *lpVtbl;
};

/* IHostMemoryManager (slots 3..12). The Virtual* methods work over mmap with Win32
 * semantics: VirtualAlloc reserves (MEM_RESERVE, optionally at pAddress, never
 * replacing an existing mapping), commits inside an earlier reservation (MEM_COMMIT),
 * or both; MEM_RESET discards committed contents. VirtualFree(MEM_RELEASE) needs the
 * reservation's base and size 0; MEM_DECOMMIT returns pages to reserved; memory that
 * no VirtualAlloc of this manager reserved gives HOST_E_INVALIDOPERATION. VirtualQuery
 * reads the process's mappings; GetMemoryLoad reads /proc/meminfo.
 * NeedsVirtualAddressSpace answers E_OUTOFMEMORY when the address-space budget would
 * be exceeded; Acquired/ReleasedVirtualAddressSpace keep the running total. */
typedef struct IHostMemoryManager IHostMemoryManager;
typedef struct IHostMemoryManagerVtbl {
    HRESULT (*QueryInterface)(IHostMemoryManager *This, REFIID riid, void **ppvObject);
    ULONG (*AddRef)(IHostMemoryManager *This);
    ULONG (*Release)(IHostMemoryManager *This);
    HRESULT (*CreateMalloc)(IHostMemoryManager *This, DWORD dwMallocType, IHostMalloc **ppMalloc);
    HRESULT (*VirtualAlloc)(IHostMemoryManager *This, void *pAddress, SIZE_T dwSize,
                            DWORD flAllocationType, DWORD flProtect,
                            EMemoryCriticalLevel eCriticalLevel, void **ppMem);
    HRESULT (*VirtualFree)(IHostMemoryManager *This, void *lpAddress, SIZE_T dwSize,
                           DWORD dwFreeType);
    HRESULT (*VirtualQuery)(IHostMemoryManager *This, void *lpAddress, void *lpBuffer,
                            SIZE_T dwLength, SIZE_T *pResult);
    HRESULT (*VirtualProtect)(IHostMemoryManager *This, void *lpAddress, SIZE_T dwSize,
                              DWORD flNewProtect, DWORD *pflOldProtect);
    HRESULT (*GetMemoryLoad)(IHostMemoryManager *This, DWORD *pMemoryLoad, SIZE_T *pAvailableBytes);
    HRESULT (*RegisterMemoryNotificationCallback)(IHostMemoryManager *This,
                                                  ICLRMemoryNotificationCallback *pCallback);
    HRESULT (*NeedsVirtualAddressSpace)(IHostMemoryManager *This, void *startAddress, SIZE_T size);
    HRESULT (*AcquiredVirtualAddressSpace)(IHostMemoryManager *This, void *startAddress,
                                           SIZE_T size);
    HRESULT (*ReleasedVirtualAddressSpace)(IHostMemoryManager *This, void *startAddress);
} IHostMemoryManagerVtbl;
struct IHostMemoryManager {
    const IHostMemoryManagerVtbl *lpVtbl;
};

/* 1831991C-CC53-4A31-B218-04E910446479 */
static const IID IID_IHostMalloc =
    COM_GUID_INIT(0x1831991C, 0xCC53, 0x4A31, 0xB2, 0x18, 0x04, 0xE9, 0x10, 0x44, 0x64, 0x79);
/* 7BC698D1-F9E3-4460-9CDE-D04248E9FA25 */
static const IID IID_IHostMemoryManager =
    COM_GUID_INIT(0x7BC698D1, 0xF9E3, 0x4460, 0x9C, 0xDE, 0xD0, 0x42, 0x48, 0xE9, 0xFA, 0x25);
/* 47EB8E57-0846-4546-AF76-6F42FCFC2649 */
static const IID IID_ICLRMemoryNotificationCallback =
    COM_GUID_INIT(0x47EB8E57, 0x0846, 0x4546, 0xAF, 0x76, 0x6F, 0x42, 0xFC, 0xFC, 0x26, 0x49);

#ifdef __cplusplus
}
#endif
#endif
