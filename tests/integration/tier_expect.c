/* tier_expect.c: the suites' own reading of an image for --recompile (tier_expect.h).
 * It follows the rules in docs/profiler.md ("Recompilation"), written from CoreCLR's JIT
 * (the importer's scan at tier 0) and not from the host's code: a method's generic
 * parameters come from its signature's calling convention (GENERIC, II.23.2.1) and its
 * type's from the GenericParam rows whose owner is that TypeDef; the IL is judged by
 * opcode name. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ilgraft/ilbody.h"
#include "ilgraft/metadata.h"
#include "tier_expect.h"

#define SIG_GENERIC 0x10           /* II.23.2.1 */
#define MD_STATIC 0x0010           /* MethodAttributes */
#define MI_NO_OPTIMIZATION 0x0040  /* MethodImplAttributes */
#define MI_AGGRESSIVE_OPT 0x0200

/* TypeDef rows that own GenericParam rows: generic[rid] set. */
static bool *generic_types(const ilg_metadata *md)
{
    uint32_t types = ilg_md_row_count(md, ILG_TBL_TypeDef);
    bool *set = calloc((size_t)types + 1, sizeof *set);
    ck_assert_ptr_nonnull(set);
    uint32_t owner_col = UINT32_MAX;
    ilg_column_info c;
    for (uint32_t i = 0; i < ilg_md_column_count(ILG_TBL_GenericParam); i++)
        if (ilg_md_column(md, ILG_TBL_GenericParam, i, &c) == ILG_OK &&
            strcmp(c.name, "Owner") == 0)
            owner_col = i;
    for (uint32_t r = 1; r <= ilg_md_row_count(md, ILG_TBL_GenericParam); r++) {
        uint32_t owner = 0;
        ck_assert_int_eq(ilg_md_cell(md, ILG_TBL_GenericParam, r, owner_col, &owner), ILG_OK);
        if (owner >> 24 == ILG_TBL_TypeDef && (owner & 0xFFFFFF) <= types)
            set[owner & 0xFFFFFF] = true;
    }
    return set;
}

static bool named(const ilg_instr *in, const char *name)
{
    return strcmp(ilg_opcode_get((ilg_opcode)in->op)->name, name) == 0;
}

/* Whether instruction index i is inside a catch, filter, finally or fault block. */
static bool in_handler(const ilg_body *b, uint32_t i)
{
    for (uint32_t k = 0; k < b->eh_count; k++) {
        const ilg_eh_clause *c = &b->eh[k];
        uint32_t from = c->kind == ILG_EH_FILTER ? c->filter_start : c->handler_start;
        if (i >= from && i < c->handler_end)
            return true;
    }
    return false;
}

/* JIT events per FunctionID of a method with this IL under recompilation. */
static uint8_t events_for(const ilg_body *b, const ilg_method_info *mi)
{
    if (mi->impl_flags & (MI_NO_OPTIMIZATION | MI_AGGRESSIVE_OPT))
        return 1;
    bool back = false, osr_cannot = false, tail = false;
    for (uint32_t i = 0; i < b->count; i++) {
        const ilg_instr *in = &b->instrs[i];
        const ilg_opcode_info *op = ilg_opcode_get((ilg_opcode)in->op);
        tail |= named(in, "tail.");
        osr_cannot |= named(in, "localloc");
        if (!(mi->flags & MD_STATIC) && in->arg.i == 0 &&
            (named(in, "starg") || named(in, "starg.s") || named(in, "ldarga") ||
             named(in, "ldarga.s")))
            osr_cannot = true;
        bool here = false;
        if (op->operand == ILG_OPND_BR1 || op->operand == ILG_OPND_BR4)
            here = b->instrs[in->arg.target].offset <= in->offset;
        for (uint32_t k = 0; op->operand == ILG_OPND_SWITCH && k < in->arg.sw.count; k++)
            here |= b->instrs[b->targets[in->arg.sw.first + k]].offset <= in->offset;
        back |= here;
        osr_cannot |= here && in_handler(b, i);
    }
    if (tail || (back && osr_cannot))
        return 1;
    return back ? 3 : 2;
}

void tier_expect_load(const char *path, bool recompile, tier_expect *out)
{
    ilg_image *img = NULL;
    const ilg_metadata *md = NULL;
    ilg_body *b = NULL;
    memset(out, 0, sizeof *out);
    ck_assert_int_eq(ilg_image_open(path, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ck_assert_int_eq(ilg_body_new(&b), ILG_OK);
    bool *gtypes = generic_types(md);
    out->methods = ilg_md_row_count(md, ILG_TBL_MethodDef);
    out->fids = calloc(out->methods + 1, 1);
    out->per_fid = calloc(out->methods + 1, 1);
    ck_assert(out->fids && out->per_fid);
    for (uint32_t rid = 1; rid <= out->methods; rid++) {
        ilg_method_info mi;
        ilg_method_body mb;
        ck_assert_int_eq(ilg_md_method(md, rid, &mi), ILG_OK);
        ck_assert_int_eq(ilg_md_method_body(md, rid, &mb), ILG_OK);
        if (mb.kind != ILG_BODY_TINY && mb.kind != ILG_BODY_FAT)
            continue;
        out->with_il++;
        bool generic = (mi.sig_len && (mi.sig[0] & SIG_GENERIC)) ||
                       (mi.owner && gtypes[mi.owner & 0xFFFFFF]);
        uint8_t fids = recompile && generic ? 2 : 1, per = 1;
        if (recompile) {
            ck_assert_int_eq(ilg_body_decode(b, mb.header, mb.body_size), ILG_OK);
            per = events_for(b, &mi);
        }
        out->fids[rid - 1] = fids;
        out->per_fid[rid - 1] = per;
        out->generic += fids == 2;
        out->parameterized += generic;
        out->osr += per == 3;
        out->once += per == 1;
        out->events += (uint64_t)fids * per;
        out->fid_total += fids;
    }
    free(gtypes);
    ilg_body_free(b);
    ilg_image_close(img);
}

void tier_expect_free(tier_expect *e)
{
    free(e->fids);
    free(e->per_fid);
    memset(e, 0, sizeof *e);
}
