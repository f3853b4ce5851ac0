/* ilgraft/com.h: ilgraft's helpers over the COM types of unknwn.h (which it includes):
 * a GUID's registry text form. Part of ilgraft's API, never included by the ABI headers
 * (unknwn.h, cor_md.h, corprof.h, mscoree.h). */
#ifndef ILGRAFT_COM_H
#define ILGRAFT_COM_H

#include <stdio.h>

#include "ilgraft/unknwn.h"

#ifdef __cplusplus
extern "C" {
#endif

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
