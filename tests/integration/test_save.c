/* test_save.c: saving grafted images (ilgraft/save.h, `ilgraft run --save`).
 *   build    the library call: the saved file compared byte by byte with its input
 *            (only the documented fields differ), the new section read with this file's
 *            own PE parsing, bodies read back through a fresh open, the strong-name
 *            flag and the CheckSum (this file's checksum is first proven on a file a
 *            Microsoft toolchain stamped), the edge cases and errors;
 *   host     `ilgraft run --save` with prof_save over every fixture: `ilgraft verify`
 *            and monodis accept each saved image, MethodDef RVAs match the report, and
 *            the saved programs run under mono with the rewrite's visible effect;
 *   runtime  the C# fixture: the live rewrite under a real CoreCLR (prof_save as the
 *            profiler) and the saved image under dotnet and under mono print the same;
 *   r2r      the ReadyToRun fixture saved with Add rewritten by the plugin: exactly the
 *            rewritten methods and their inliners (from the input's own inlining table)
 *            lose their entries, every other entry is the same, the rest of the file is
 *            unchanged but for the documented cells, and the new section sits where
 *            CoreCLR's Unix loader can map it (docs/save.md, "ReadyToRun"; the runtime
 *            half is tests/runtime/test_readytorun.c).
 * Expected bodies come from the input image and prof_save's fixed rules, not from the
 * code under test. */
#include <check.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "unit/fixture_util.h"
#include "ilgraft/arena.h"
#include "ilgraft/metadata.h"
#include "ilgraft/save.h"

#define TEST_CLSID "{1F6E4A2B-3C5D-4E7F-8091-A2B3C4D5E6F7}"
#define PLUGIN_CLSID "{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}"
#define CECIL_DLL "/usr/lib/mono/gac/Mono.Cecil/0.11.0.0__0738eb9f132ed756/Mono.Cecil.dll"

static const char *const il_fixtures[] = { "calc.exe",  "eh.exe",       "generics.exe",
                                           "types.exe", "bodies.exe",   "big.exe",
                                           "cs/Hello/Hello.dll" };

static char dir[256];
static fx_result res;

/* Is the C# fixture at path there? It needs the .NET SDK at build time (fixtures/cs):
 * without it, "SKIP: what" and false, except under CI=true, where the test fails. */
static bool have_cs_fixture(const char *path, const char *what)
{
    if (access(path, R_OK) == 0)
        return true;
    ck_assert_msg(strstr(path, "/cs/") != NULL, "%s: %s is missing", what, path);
    return fx_require(false, "%s: %s was not built (no .NET SDK)", what, path);
}

static void rm_dir(void)
{
    fx_tmpdir_remove(dir);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ilg_save_%d", (int)getpid());
    rm_dir();
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    memset(&res, 0, sizeof res);
    unsetenv("PROF_SAVE_ONLY");
    unsetenv("CORECLR_ENABLE_PROFILING");
}

static void teardown(void)
{
    fx_result_free(&res);
    rm_dir();
}

/* ---- this file's own PE reading (PE/COFF spec offsets) ------------------------------ */

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | rd16(p + 2) << 16; }
static uint32_t up(uint32_t v, uint32_t a) { return (v + a - 1) / a * a; }

typedef struct pe_view {
    uint32_t lfanew, coff, opt, sections, nsec, salign, falign, soi, soh, checksum_at;
} pe_view;

static pe_view pe_read(const uint8_t *f, size_t n)
{
    pe_view v;
    ck_assert_uint_ge(n, 0x40);
    v.lfanew = rd32(f + 0x3C);
    ck_assert_uint_le(v.lfanew + 24, n);
    ck_assert(memcmp(f + v.lfanew, "PE\0\0", 4) == 0);
    v.coff = v.lfanew + 4;
    v.nsec = rd16(f + v.coff + 2);
    v.opt = v.coff + 20;
    v.sections = v.opt + rd16(f + v.coff + 16);
    v.salign = rd32(f + v.opt + 32);
    v.falign = rd32(f + v.opt + 36);
    v.soi = rd32(f + v.opt + 56);
    v.soh = rd32(f + v.opt + 60);
    v.checksum_at = v.opt + 64;
    ck_assert_uint_le(v.sections + 40 * v.nsec, n);
    return v;
}

/* The PE image checksum, written here from the PE format's description. */
static uint32_t checksum_of(const uint8_t *f, size_t n, size_t skip)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i += 2) {
        uint32_t w = f[i] | (i + 1 < n ? (uint32_t)f[i + 1] << 8 : 0u);
        if (i >= skip && i < skip + 4)
            w = 0;
        s += w;
        s = (s & 0xFFFF) + (s >> 16);
    }
    s = (s & 0xFFFF) + (s >> 16);
    return (uint32_t)s + (uint32_t)n;
}

/* The new MVID as docs/save.md defines it, computed here over the whole saved file at
 * once: XXH3-128 of the old MVID followed by the file with its MVID bytes and its
 * CheckSum field zero, canonical (big-endian) digest bytes, version 4, variant 10. */
static void expected_mvid(const uint8_t old[16], const uint8_t *f, size_t n, uint64_t mvid_at,
                          uint32_t checksum_at, uint8_t out[16])
{
    uint8_t *copy = malloc(n + 16);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, old, 16);
    memcpy(copy + 16, f, n);
    memset(copy + 16 + mvid_at, 0, 16);
    memset(copy + 16 + checksum_at, 0, 4);
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(copy, n + 16));
    free(copy);
    memcpy(out, c.digest, 16);
    out[7] = (uint8_t)((out[7] & 0x0F) | 0x40);
    out[8] = (uint8_t)((out[8] & 0x3F) | 0x80);
}

/* An MVID's registry text, upper case, as monodis prints it (without the braces). */
static void mvid_text(const uint8_t b[16], char out[37])
{
    snprintf(out, 37, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", rd32(b), rd16(b + 4),
             rd16(b + 6), b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static bool have_mono_tools(void);
static void monodis_mvid(const char *path, char out[37]);

/* prof_save's rules, applied to an original body: the bytes the new body must have. */
static size_t expected_body(const uint8_t *h, size_t size, uint8_t *out)
{
    static const uint8_t add_body[] = { 0x02, 0x03, 0x58, 0x2A };
    memcpy(out, h, size);
    if ((h[0] & 3) != 2)
        return size;
    uint32_t code = h[0] >> 2;
    if (code == 3 && h[1] == 0x1F && h[3] == 0x2A) {
        out[2] = (uint8_t)(h[2] + 1);
        return size;
    }
    if (code == 4 && memcmp(h + 1, add_body, 4) == 0) {
        out[3] = 0x5A;
        return size;
    }
    if (code >= 63)
        return size;
    out[0] = (uint8_t)(((code + 1) << 2) | 2);
    out[1] = 0x00;
    memcpy(out + 2, h + 1, code);
    return size + 1;
}

/* ---- build: the library call ------------------------------------------------------- */

typedef struct grafted {
    ilg_image *img;
    const ilg_metadata *md;
    ilg_save_method *list;
    size_t count;
    ilg_arena_stats as;
} grafted;

/* Opens path (or bytes[0..n) when bytes is set) and puts prof_save's body for every
 * method with IL into the arena. */
static void graft_from(const char *path, const uint8_t *bytes, size_t n, grafted *g)
{
    memset(g, 0, sizeof *g);
    ilg_arena *arena;
    if (bytes)
        ck_assert_int_eq(ilg_image_open_memory(bytes, n, path, NULL, &g->img), ILG_OK);
    else
        ck_assert_int_eq(ilg_image_open(path, NULL, &g->img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(g->img, &g->md), ILG_OK);
    ck_assert_int_eq(ilg_image_arena(g->img, &arena), ILG_OK);
    uint32_t rows = ilg_md_row_count(g->md, ILG_TBL_MethodDef);
    g->list = calloc(rows + 1, sizeof *g->list);
    for (uint32_t rid = 1; rid <= rows; rid++) {
        ilg_method_body b;
        ck_assert_int_eq(ilg_md_method_body(g->md, rid, &b), ILG_OK);
        if (b.kind != ILG_BODY_TINY && b.kind != ILG_BODY_FAT)
            continue;
        uint8_t *tmp = malloc(b.body_size + 1);
        size_t bn = expected_body(b.header, b.body_size, tmp);
        void *p;
        uint32_t rva;
        ck_assert_int_eq(ilg_arena_alloc(arena, bn, &p, &rva), ILG_OK);
        memcpy(p, tmp, bn);
        free(tmp);
        g->list[g->count++] = (ilg_save_method){ rid, rva, (uint32_t)bn };
    }
    ck_assert_int_eq(ilg_arena_stats_get(arena, &g->as), ILG_OK);
}

static void graft(const char *path, grafted *g)
{
    graft_from(path, NULL, 0, g);
}

static void ungraft(grafted *g)
{
    ilg_image_close(g->img);
    free(g->list);
}

/* Every byte of in except the documented fields equals the saved file's. */
static void check_saved_bytes(const uint8_t *in, size_t in_n, const uint8_t *out, size_t out_n,
                              const grafted *g, const ilg_save_result *r)
{
    pe_view a = pe_read(in, in_n), b = pe_read(out, out_n);
    uint8_t *mask = calloc(in_n, 1); /* 1: may differ */

    /* The new section, read with this file's own parsing. */
    ck_assert_uint_eq(b.nsec, a.nsec + 1);
    const uint8_t *sh = out + b.sections + 40 * a.nsec;
    ck_assert(memcmp(sh, ".graft\0\0", 8) == 0);
    uint32_t vsize = rd32(sh + 8), va = rd32(sh + 12), raw = rd32(sh + 16), off = rd32(sh + 20);
    ck_assert_uint_eq(va, up(a.soi, a.salign));  /* contiguous with the last section */
    ck_assert_uint_eq(va % a.salign, 0);
    ck_assert_uint_le(va, g->as.start);           /* the arena keeps its RVAs */
    ck_assert_uint_eq(va + vsize, g->as.high_water);
    ck_assert_uint_eq(off, up((uint32_t)in_n, a.falign));
    ck_assert_uint_eq(raw, up(vsize, a.falign));
    ck_assert_uint_eq(rd32(sh + 36), 0x40000040u);
    ck_assert_uint_eq(out_n, (size_t)off + raw);
    ck_assert_uint_eq(b.soi, up(va + vsize, a.salign));
    ck_assert_uint_eq(r->section_rva, va);
    ck_assert_uint_eq(r->section_file_offset, off);
    /* Arena bytes at their RVAs, zeros around them. */
    for (uint32_t i = 0; i < raw; i++) {
        uint64_t rva = (uint64_t)va + i;
        uint8_t want = rva >= g->as.start && rva < g->as.high_water ? g->as.base[rva] : 0;
        ck_assert_msg(out[off + i] == want, "section byte 0x%x", i);
    }
    for (size_t i = in_n; i < off; i++)
        ck_assert_uint_eq(out[i], 0);

    /* Where each input byte went: the headers move by (old - new) e_lfanew. */
    uint32_t moved = a.lfanew - b.lfanew;
    ck_assert_uint_eq(moved, r->header_moved_by);
    uint32_t table_end = a.sections + 40 * a.nsec;
    for (uint32_t i = 0x3C; i < 0x40 && moved; i++)
        mask[i] = 1;
    uint32_t fields[][2] = { { a.coff + 2, 2 }, { a.opt + 56, 4 }, { a.checksum_at, 4 } };
    for (size_t k = 0; k < 3; k++)
        memset(mask + fields[k][0], 1, fields[k][1]);
    /* The new header goes in the 40 zero bytes after the table (after any move). */
    for (uint32_t i = table_end; i < table_end + 40 && i < a.soh; i++) {
        ck_assert_uint_eq(in[i], 0);
        mask[i] = 1;
    }
    /* The MVID: the input's in the input, the one docs/save.md defines in the output. */
    ck_assert_uint_ne(r->mvid_file_offset, 0);
    ck_assert(memcmp(in + r->mvid_file_offset, r->old_mvid, 16) == 0);
    ck_assert(memcmp(out + r->mvid_file_offset, r->mvid, 16) == 0);
    ck_assert(r->mvid_changed && memcmp(r->mvid, r->old_mvid, 16) != 0);
    uint8_t want_mvid[16];
    expected_mvid(r->old_mvid, out, out_n, r->mvid_file_offset, b.checksum_at, want_mvid);
    ck_assert_msg(memcmp(r->mvid, want_mvid, 16) == 0, "the MVID is not the defined hash");
    ck_assert_uint_eq(r->mvid[7] >> 4, 4);      /* version 4 */
    ck_assert_uint_eq(r->mvid[8] >> 6, 2);      /* variant 10 */
    memset(mask + r->mvid_file_offset, 1, 16);
    for (size_t m = 0; m < g->count; m++) {
        uint64_t at = r->methoddef_file_offset +
                      (uint64_t)(g->list[m].rid - 1) * r->methoddef_row_size;
        ilg_method_info mi;
        ck_assert_int_eq(ilg_md_method(g->md, g->list[m].rid, &mi), ILG_OK);
        ck_assert_uint_eq(rd32(in + at), mi.rva);
        ck_assert_uint_eq(rd32(out + at), g->list[m].new_rva);
        memset(mask + at, 1, 4);
    }
    for (size_t i = 0; i < in_n; i++) {
        if (mask[i])
            continue;
        size_t o = i;
        if (moved && i >= a.lfanew && i < table_end)
            o = i - moved;
        else if (moved && i >= 0x40 && i < a.lfanew)
            continue; /* the DOS stub the headers moved over */
        ck_assert_msg(out[o] == in[i], "input byte 0x%zx (0x%02x) became 0x%02x at 0x%zx", i,
                      in[i], out[o], o);
    }
    /* After a move, what lies between the new table's end and the old one is zeros. */
    for (uint32_t i = b.sections + 40 * b.nsec; i < table_end; i++)
        ck_assert_uint_eq(out[i], 0);
    free(mask);
}

START_TEST(test_save_bytes)
{
    char path[512];
    fx_path(path, sizeof path, il_fixtures[_i]);
    if (!have_cs_fixture(path, "test_save_bytes"))
        return;
    grafted g;
    graft(path, &g);
    const uint8_t *in;
    size_t in_n;
    uint8_t *out = NULL;
    size_t out_n = 0;
    ilg_save_result r;
    ck_assert_int_eq(ilg_image_file_bytes(g.img, &in, &in_n), ILG_OK);
    ck_assert_int_eq(ilg_save_build(g.img, g.list, g.count, NULL, &out, &out_n, &r), ILG_OK);
    ck_assert(r.section_added);
    ck_assert_uint_eq(r.methods_patched, g.count);
    ck_assert_uint_eq(r.file_size, out_n);
    check_saved_bytes(in, in_n, out, out_n, &g, &r);
    ck_assert_uint_eq(rd32(out + pe_read(out, out_n).checksum_at), 0); /* was 0, stays 0 */
    /* The same methods listed backwards (the cells then have to be sorted) save the same
     * bytes. */
    ilg_save_method *rev = calloc(g.count + 1, sizeof *rev);
    ck_assert_ptr_nonnull(rev);
    for (size_t m = 0; m < g.count; m++)
        rev[m] = g.list[g.count - 1 - m];
    uint8_t *out_rev = NULL;
    size_t out_rev_n = 0;
    ck_assert_int_eq(ilg_save_build(g.img, rev, g.count, NULL, &out_rev, &out_rev_n, NULL), ILG_OK);
    ck_assert_uint_eq(out_rev_n, out_n);
    ck_assert(memcmp(out_rev, out, out_n) == 0);
    ilg_save_free(out_rev);
    free(rev);

    /* Read back through a fresh open: every patched method's body is the expected one. */
    ilg_image *back;
    const ilg_metadata *bmd;
    ck_assert_int_eq(ilg_image_open_memory(out, out_n, "saved", NULL, &back), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(back, &bmd), ILG_OK);
    for (size_t m = 0; m < g.count; m++) {
        ilg_method_body ob, nb;
        ck_assert_int_eq(ilg_md_method_body(g.md, g.list[m].rid, &ob), ILG_OK);
        ck_assert_int_eq(ilg_md_method_body(bmd, g.list[m].rid, &nb), ILG_OK);
        uint8_t *want = malloc(ob.body_size + 1);
        size_t wn = expected_body(ob.header, ob.body_size, want);
        ck_assert_uint_eq(nb.rva, g.list[m].new_rva);
        ck_assert_uint_eq(nb.body_size, wn);
        ck_assert(memcmp(nb.header, want, wn) == 0);
        free(want);
    }
    ilg_image_close(back);
    ilg_save_free(out);
    ungraft(&g);
}
END_TEST

/* SectionAlignment below the page size (calc.exe with SectionAlignment 0x200 and
 * SizeOfImage 0x4200): the section starts at SizeOfImage and pads up to the arena,
 * which starts at the next page, so every body keeps its RVA. */
START_TEST(test_save_small_section_alignment)
{
    char path[512];
    size_t n;
    fx_path(path, sizeof path, "calc.exe");
    uint8_t *bytes = (uint8_t *)fx_read_file(path, &n);
    ck_assert_ptr_nonnull(bytes);
    pe_view v = pe_read(bytes, n);
    uint32_t last_end = 0;
    for (uint32_t i = 0; i < v.nsec; i++) {
        const uint8_t *sh = bytes + v.sections + 40 * i;
        if (rd32(sh + 12) + rd32(sh + 8) > last_end)
            last_end = rd32(sh + 12) + rd32(sh + 8);
    }
    uint32_t soi = up(last_end, 0x200);
    ck_assert_uint_ne(soi % 0x1000, 0);
    bytes[v.opt + 32] = 0x00;                     /* SectionAlignment = 0x200 */
    bytes[v.opt + 33] = 0x02;
    bytes[v.opt + 34] = bytes[v.opt + 35] = 0;
    for (int k = 0; k < 4; k++)
        bytes[v.opt + 56 + k] = (uint8_t)(soi >> (8 * k));
    grafted g;
    graft_from("calc-align-0x200", bytes, n, &g);
    ck_assert_uint_eq(g.as.start, up(soi, 0x1000));
    uint8_t *out = NULL;
    size_t out_n = 0;
    ilg_save_result r;
    ck_assert_int_eq(ilg_save_build(g.img, g.list, g.count, NULL, &out, &out_n, &r), ILG_OK);
    ck_assert_uint_eq(r.section_rva, soi);
    ck_assert_uint_eq(r.section_pad, up(soi, 0x1000) - soi);
    check_saved_bytes(bytes, n, out, out_n, &g, &r);
    ilg_image *back;
    const ilg_metadata *bmd;
    ck_assert_int_eq(ilg_image_open_memory(out, out_n, "saved", NULL, &back), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(back, &bmd), ILG_OK);
    for (size_t m = 0; m < g.count; m++) {
        ilg_method_body ob, nb;
        ck_assert_int_eq(ilg_md_method_body(g.md, g.list[m].rid, &ob), ILG_OK);
        ck_assert_int_eq(ilg_md_method_body(bmd, g.list[m].rid, &nb), ILG_OK);
        uint8_t *want = malloc(ob.body_size + 1);
        size_t wn = expected_body(ob.header, ob.body_size, want);
        ck_assert_uint_eq(nb.rva, g.list[m].new_rva);
        ck_assert(nb.body_size == wn && memcmp(nb.header, want, wn) == 0);
        free(want);
    }
    ilg_image_close(back);
    ilg_save_free(out);
    ungraft(&g);
    free(bytes);
}
END_TEST

/* An image with nothing grafted saves as itself. */
START_TEST(test_save_nothing)
{
    char path[512];
    ilg_image *img;
    const uint8_t *in;
    size_t in_n, out_n = 0;
    uint8_t *out = NULL;
    ilg_save_result r;
    fx_path(path, sizeof path, "calc.exe");
    ck_assert_int_eq(ilg_image_open(path, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_file_bytes(img, &in, &in_n), ILG_OK);
    ck_assert_int_eq(ilg_save_build(img, NULL, 0, NULL, &out, &out_n, &r), ILG_OK);
    ck_assert(!r.section_added);
    ck_assert_uint_eq(out_n, in_n);
    ck_assert(memcmp(out, in, in_n) == 0);
    ilg_save_free(out);
    ilg_image_close(img);
}
END_TEST

/* The number of the Module table's column called name (md_tables.def's names). */
static uint32_t module_column(const ilg_metadata *md, const char *name, ilg_column_info *ci)
{
    for (uint32_t c = 0; c < ilg_md_column_count(ILG_TBL_Module); c++) {
        ck_assert_int_eq(ilg_md_column(md, ILG_TBL_Module, c, ci), ILG_OK);
        if (strcmp(ci->name, name) == 0)
            return c;
    }
    ck_abort_msg("no Module column %s", name);
    return 0;
}

/* The MVID: the same input and rewrite give the same one in two independent sessions;
 * another rewrite (one method fewer, or one body byte changed) another one; keep_mvid
 * keeps the input's, and nothing else then differs; a fresh open reads the new one. */
START_TEST(test_save_mvid)
{
    char path[512];
    grafted g1, g2;
    uint8_t *o1 = NULL, *o2 = NULL, *o3 = NULL, *o4 = NULL, *ok = NULL;
    size_t n1 = 0, n2 = 0, n3 = 0, n4 = 0, nk = 0;
    ilg_save_result r1, r2, r3, r4, rk;
    ilg_save_options keep = { .keep_mvid = true };
    fx_path(path, sizeof path, "calc.exe");
    graft(path, &g1);
    graft(path, &g2);
    ck_assert_int_eq(ilg_save_build(g1.img, g1.list, g1.count, NULL, &o1, &n1, &r1), ILG_OK);
    ck_assert_int_eq(ilg_save_build(g2.img, g2.list, g2.count, NULL, &o2, &n2, &r2), ILG_OK);
    ck_assert(r1.mvid_changed);
    ck_assert(n1 == n2 && memcmp(o1, o2, n1) == 0);
    ck_assert(memcmp(r1.mvid, r2.mvid, 16) == 0);
    /* One method fewer. */
    ck_assert_uint_gt(g1.count, 1);
    ck_assert_int_eq(ilg_save_build(g1.img, g1.list, g1.count - 1, NULL, &o3, &n3, &r3), ILG_OK);
    ck_assert(memcmp(r3.mvid, r1.mvid, 16) != 0 && memcmp(r3.mvid, r1.old_mvid, 16) != 0);
    /* One byte of a new body changed (the last byte of the last one: its ret). */
    uint32_t last = g2.list[g2.count - 1].new_rva + g2.list[g2.count - 1].new_size - 1;
    ((uint8_t *)g2.as.base)[last] ^= 0x01;
    ck_assert_int_eq(ilg_save_build(g2.img, g2.list, g2.count, NULL, &o4, &n4, &r4), ILG_OK);
    ck_assert(memcmp(r4.mvid, r1.mvid, 16) != 0 && memcmp(r4.mvid, r3.mvid, 16) != 0);
    /* Kept: the input's MVID, and otherwise the same bytes as with a new one. */
    ck_assert_int_eq(ilg_save_build(g1.img, g1.list, g1.count, &keep, &ok, &nk, &rk), ILG_OK);
    ck_assert(!rk.mvid_changed);
    ck_assert(memcmp(rk.mvid, rk.old_mvid, 16) == 0 && memcmp(rk.old_mvid, r1.old_mvid, 16) == 0);
    ck_assert_uint_eq(rk.mvid_file_offset, r1.mvid_file_offset);
    ck_assert_uint_eq(nk, n1);
    for (size_t i = 0; i < n1; i++)
        if (i < r1.mvid_file_offset || i >= r1.mvid_file_offset + 16)
            ck_assert_msg(ok[i] == o1[i], "byte 0x%zx differs with keep_mvid", i);
    ck_assert(memcmp(ok + r1.mvid_file_offset, r1.old_mvid, 16) == 0);
    /* The saved image's reader sees the new MVID in Module.Mvid. */
    ilg_image *back;
    const ilg_metadata *bmd;
    const uint8_t *guid;
    uint32_t index;
    ilg_column_info ci;
    ck_assert_int_eq(ilg_image_open_memory(o1, n1, "saved", NULL, &back), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(back, &bmd), ILG_OK);
    ck_assert_int_eq(ilg_md_cell(bmd, ILG_TBL_Module, 1, module_column(bmd, "Mvid", &ci), &index),
                     ILG_OK);
    ck_assert_int_eq(ilg_md_guid(bmd, index, &guid), ILG_OK);
    ck_assert(memcmp(guid, r1.mvid, 16) == 0);
    ilg_image_close(back);
    /* So does monodis, an independent reader. */
    if (have_mono_tools()) {
        char saved[300], text[37], dis[37];
        snprintf(saved, sizeof saved, "%s/calc.exe", dir);
        FILE *fp = fopen(saved, "wb");
        ck_assert_ptr_nonnull(fp);
        ck_assert_uint_eq(fwrite(o1, 1, n1, fp), n1);
        fclose(fp);
        monodis_mvid(saved, dis);
        mvid_text(r1.mvid, text);
        ck_assert_str_eq(dis, text);
    }
    ilg_save_free(o1);
    ilg_save_free(o2);
    ilg_save_free(o3);
    ilg_save_free(o4);
    ilg_save_free(ok);
    ungraft(&g1);
    ungraft(&g2);
}
END_TEST

/* Module.EncId made to index the MVID's #GUID entry (in a copy of calc.exe): rewriting
 * the entry would change EncId too, so the save refuses; keep_mvid saves. */
START_TEST(test_save_mvid_shared)
{
    char path[512];
    size_t n;
    fx_path(path, sizeof path, "calc.exe");
    uint8_t *bytes = (uint8_t *)fx_read_file(path, &n);
    ck_assert_ptr_nonnull(bytes);
    ilg_image *img;
    const ilg_metadata *md;
    ilg_md_info mi;
    ilg_column_info mvid_col, enc_col;
    uint32_t mvid;
    ck_assert_int_eq(ilg_image_open_memory(bytes, n, "calc", NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ck_assert_int_eq(ilg_md_get_info(md, &mi), ILG_OK);
    uint32_t mvid_c = module_column(md, "Mvid", &mvid_col);
    uint32_t enc_c = module_column(md, "EncId", &enc_col);
    ck_assert_int_eq(ilg_md_cell(md, ILG_TBL_Module, 1, mvid_c, &mvid), ILG_OK);
    ck_assert_uint_eq(mvid_col.width, 2);
    /* The Module row is the first row of the tables: after the #~ header (24 bytes), one
     * 4-byte row count per table present, and 4 extra bytes with heap-size bit 0x40. */
    uint64_t row = 0;
    for (uint32_t i = 0; i < mi.stream_count; i++)
        if (strcmp(mi.streams[i].name, "#~") == 0)
            row = mi.streams[i].file_offset + 24 + 4 * (uint64_t)__builtin_popcountll(mi.valid_mask) +
                  ((mi.heap_sizes & 0x40) ? 4 : 0);
    ck_assert_uint_ne(row, 0);
    ck_assert_uint_eq(rd16(bytes + row + mvid_col.offset), mvid);
    ilg_image_close(img);
    bytes[row + enc_col.offset] = (uint8_t)mvid;
    bytes[row + enc_col.offset + 1] = (uint8_t)(mvid >> 8);

    grafted g;
    uint8_t *out = NULL;
    size_t out_n = 0;
    ilg_save_result r;
    ilg_save_options keep = { .keep_mvid = true };
    graft_from("calc-shared-guid", bytes, n, &g);
    uint32_t enc;
    ck_assert_int_eq(ilg_md_cell(g.md, ILG_TBL_Module, 1, enc_c, &enc), ILG_OK);
    ck_assert_uint_eq(enc, mvid);
    ck_assert_int_eq(ilg_save_build(g.img, g.list, g.count, NULL, &out, &out_n, &r),
                     ILG_E_SAVE_MVID_SHARED);
    ck_assert_ptr_nonnull(strstr(ilg_last_diag()->message, "EncId"));
    ck_assert_int_eq(ilg_save_build(g.img, g.list, g.count, &keep, &out, &out_n, &r), ILG_OK);
    ck_assert(!r.mvid_changed);
    ilg_save_free(out);
    ungraft(&g);
    free(bytes);
}
END_TEST

START_TEST(test_save_errors)
{
    char path[512];
    grafted g;
    uint8_t *out = (uint8_t *)&out;
    size_t out_n = 77;
    fx_path(path, sizeof path, "calc.exe");
    graft(path, &g);
    uint32_t rows = ilg_md_row_count(g.md, ILG_TBL_MethodDef);
    ilg_save_method bad[] = {
        { 0, g.list[0].new_rva, g.list[0].new_size },
        { rows + 1, g.list[0].new_rva, g.list[0].new_size },
        { 1, (uint32_t)g.as.start - 4, 4 },
        { 1, (uint32_t)g.as.high_water - 1, 2 },
        { 1, g.list[0].new_rva, 0 },
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        ck_assert_int_eq(ilg_save_build(g.img, &bad[k], 1, NULL, &out, &out_n, NULL),
                         ILG_E_SAVE_BAD_METHOD);
        ck_assert(out == (uint8_t *)&out && out_n == 77); /* untouched on failure */
        ck_assert(strstr(ilg_last_diag()->message, "0x") != NULL);
    }
    ck_assert_int_eq(ilg_save_build(g.img, g.list, 1, NULL, NULL, &out_n, NULL),
                     ILG_E_INVALID_ARG);
    ck_assert_int_eq(ilg_save_write(g.img, g.list, g.count, NULL, "/nonexistent-dir/x.exe", NULL),
                     ILG_E_IO);
    ungraft(&g);

    /* Uncompressed #- tables (the stream renamed in calc.exe): refused, since their
     * layout is not the one the table walk computes. */
    size_t n;
    fx_path(path, sizeof path, "calc.exe");
    uint8_t *bytes = (uint8_t *)fx_read_file(path, &n);
    ck_assert_ptr_nonnull(bytes);
    uint8_t *tilde = memmem(bytes, n, "#~\0", 3);
    ck_assert_ptr_nonnull(tilde);
    tilde[1] = '-';
    ilg_image *unc;
    ck_assert_int_eq(ilg_image_open_memory(bytes, n, "calc-uncompressed", NULL, &unc), ILG_OK);
    ck_assert_int_eq(ilg_save_build(unc, NULL, 0, NULL, &out, &out_n, NULL),
                     ILG_E_SAVE_METADATA_LAYOUT);
    ilg_image_close(unc);
    free(bytes);

    /* ELF: not PE. */
    ilg_image *elf;
    fx_path(path, sizeof path, "libilgfix.so");
    ck_assert_int_eq(ilg_image_open(path, NULL, &elf), ILG_OK);
    ck_assert_int_eq(ilg_save_build(elf, NULL, 0, NULL, &out, &out_n, NULL), ILG_E_INVALID_ARG);
    ilg_image_close(elf);
}
END_TEST

/* Roslyn leaves no room after its section table: the headers move over the DOS stub,
 * or, when that is forbidden, a clear error. A used byte after an ilasm table also
 * refuses. */
START_TEST(test_save_header_room)
{
    char path[512];
    grafted g;
    uint8_t *out = NULL;
    size_t out_n = 0;
    ilg_save_options strict = { .no_header_move = true };
    ilg_save_result r;
    fx_path(path, sizeof path, "cs/Hello/Hello.dll");
    if (have_cs_fixture(path, "test_save_header_room's Roslyn case")) {
        graft(path, &g);
        ck_assert_int_eq(ilg_save_build(g.img, g.list, g.count, &strict, &out, &out_n, NULL),
                         ILG_E_SAVE_NO_HEADER_ROOM);
        ck_assert_uint_eq(ilg_last_diag()->offset, 0x1F0);
        ck_assert_int_eq(ilg_save_build(g.img, g.list, g.count, NULL, &out, &out_n, &r), ILG_OK);
        ck_assert_uint_eq(r.header_moved_by, 0x40);
        ck_assert_uint_eq(rd32(out + 0x3C), 0x40);
        ilg_save_free(out);
        ungraft(&g);
    }
    /* calc.exe with a non-zero byte just after its section table. */
    size_t n;
    fx_path(path, sizeof path, "calc.exe");
    uint8_t *bytes = (uint8_t *)fx_read_file(path, &n);
    ck_assert_ptr_nonnull(bytes);
    pe_view v = pe_read(bytes, n);
    uint32_t after = v.sections + 40 * v.nsec;
    bytes[after + 5] = 0xAB;
    ilg_image *img;
    ilg_arena *arena;
    void *p;
    ck_assert_int_eq(ilg_image_open_memory(bytes, n, "calc-dirty", NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_arena(img, &arena), ILG_OK);
    ck_assert_int_eq(ilg_arena_alloc(arena, 8, &p, NULL), ILG_OK);
    ck_assert_int_eq(ilg_save_build(img, NULL, 0, &strict, &out, &out_n, NULL),
                     ILG_E_SAVE_NO_HEADER_ROOM);
    ck_assert_uint_eq(ilg_last_diag()->offset, after);
    ilg_image_close(img);
    free(bytes);
}
END_TEST

/* A strong-name-signed input with a real CheckSum: Mono.Cecil from Mono's GAC. */
START_TEST(test_save_strong_name_checksum)
{
    /* mono-devel (scripts/setup.sh) installs it: its absence is a broken setup. */
    ck_assert_msg(access(CECIL_DLL, R_OK) == 0, "%s is missing", CECIL_DLL);
    ilg_image *img;
    const ilg_metadata *md;
    ilg_arena *arena;
    const uint8_t *in;
    size_t in_n, out_n = 0;
    uint8_t *out = NULL;
    ilg_md_info mi;
    ck_assert_int_eq(ilg_image_open(CECIL_DLL, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ck_assert_int_eq(ilg_md_get_info(md, &mi), ILG_OK);
    ck_assert_int_eq(ilg_image_file_bytes(img, &in, &in_n), ILG_OK);
    ck_assert_uint_eq(mi.cli_flags & 0x8, 0x8);
    pe_view a = pe_read(in, in_n);
    uint32_t stored = rd32(in + a.checksum_at);
    ck_assert_uint_ne(stored, 0);
    /* This file's checksum reproduces the one the signing toolchain stamped. */
    ck_assert_uint_eq(checksum_of(in, in_n, a.checksum_at), stored);

    ilg_save_method m = { 0 };
    for (uint32_t rid = 1; !m.rid; rid++) {
        ilg_method_body b;
        ck_assert_int_eq(ilg_md_method_body(md, rid, &b), ILG_OK);
        if (b.kind == ILG_BODY_TINY || b.kind == ILG_BODY_FAT) {
            void *p;
            ck_assert_int_eq(ilg_image_arena(img, &arena), ILG_OK);
            ck_assert_int_eq(ilg_arena_alloc(arena, b.body_size, &p, &m.new_rva), ILG_OK);
            memcpy(p, b.header, b.body_size);
            m.rid = rid;
            m.new_size = b.body_size;
        }
    }
    char logp[300];
    snprintf(logp, sizeof logp, "%s/warn.log", dir);
    FILE *log = fopen(logp, "w");
    ck_assert_ptr_nonnull(log);
    ilg_save_options o = { .log = log };
    ilg_save_result r;
    ck_assert_int_eq(ilg_save_build(img, &m, 1, &o, &out, &out_n, &r), ILG_OK);
    fclose(log);
    char *text = fx_read_file(logp, NULL);
    ck_assert_ptr_nonnull(strstr(text, "strong-name signature no longer matches"));
    free(text);
    ck_assert(r.strong_name_cleared);

    ilg_image *back;
    const ilg_metadata *bmd;
    ilg_md_info bmi;
    ck_assert_int_eq(ilg_image_open_memory(out, out_n, "saved-cecil", NULL, &back), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(back, &bmd), ILG_OK);
    ck_assert_int_eq(ilg_md_get_info(bmd, &bmi), ILG_OK);
    ck_assert_uint_eq(bmi.cli_flags, mi.cli_flags & ~0x8u);
    pe_view b = pe_read(out, out_n);
    ck_assert_uint_eq(rd32(out + b.checksum_at), checksum_of(out, out_n, b.checksum_at));
    ck_assert_uint_eq(r.checksum, rd32(out + b.checksum_at));
    /* ilg_save_write streams the same plan from the input and the arena (writev, no
     * output-sized buffer): byte for byte what ilg_save_build made, checksum included. */
    char wpath[300];
    snprintf(wpath, sizeof wpath, "%s/written-cecil.dll", dir);
    log = fopen(logp, "w");
    ck_assert_ptr_nonnull(log);
    o.log = log; /* the first FILE is closed */
    ilg_save_result wr;
    ck_assert_int_eq(ilg_save_write(img, &m, 1, &o, wpath, &wr), ILG_OK);
    fclose(log);
    size_t w_n = 0;
    char *written = fx_read_file(wpath, &w_n);
    ck_assert_ptr_nonnull(written);
    ck_assert_uint_eq(w_n, out_n);
    ck_assert_msg(memcmp(written, out, out_n) == 0, "ilg_save_write differs from ilg_save_build");
    ck_assert_uint_eq(wr.checksum, r.checksum);
    free(written);
    ilg_image_close(back);
    ilg_save_free(out);
    ilg_image_close(img);
}
END_TEST

/* ---- host: `ilgraft run --save` ---------------------------------------------------- */

/* mono, monodis and mcs (mono-devel, mono-utils: scripts/setup.sh). Without them: SKIP,
 * or a failure under CI=true. */
static bool have_mono_tools(void)
{
    static const char *const tools[] = { "mono", "monodis", "mcs", NULL };
    const char *missing = fx_missing_program(tools);
    return fx_require(!missing, "%s not found", missing);
}

static void run_argv(const char *const *argv)
{
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
}

/* `ilgraft run --json [option] --save out_dir images...` with prof_save. */
static int run_save_with(const char *option, const char *out_dir, const char *const *images,
                         size_t count)
{
    const char *argv[32];
    int n = 0;
    argv[n++] = ILG_CLI_PATH;
    argv[n++] = "run";
    argv[n++] = "--profiler";
    argv[n++] = ILG_PROF_SAVE;
    argv[n++] = "--clsid";
    argv[n++] = TEST_CLSID;
    argv[n++] = "--json";
    if (option)
        argv[n++] = option;
    argv[n++] = "--save";
    argv[n++] = out_dir;
    for (size_t i = 0; i < count; i++)
        argv[n++] = images[i];
    argv[n] = NULL;
    run_argv(argv);
    return res.exited ? res.status : -1;
}

static int run_save(const char *out_dir, const char *const *images, size_t count)
{
    return run_save_with(NULL, out_dir, images, count);
}

/* argv's stdout (malloc'd); it must exit with status 0. */
static char *run_out(const char *const *argv)
{
    run_argv(argv);
    ck_assert_msg(res.exited && res.status == 0, "%s: %s", argv[0], res.err);
    return strdup(res.out);
}

/* The MVID the "ilgraft: saved PATH: ..." line of err names (without braces). */
static void saved_line_mvid(const char *err, const char *path, char out[37])
{
    char head[600];
    snprintf(head, sizeof head, "ilgraft: saved %.500s: ", path);
    const char *line = strstr(err, head);
    ck_assert_msg(line, "no saved line for %s in: %s", path, err);
    const char *m = strstr(line, ", MVID "), *eol = strchr(line, '\n');
    ck_assert_msg(m && (!eol || m < eol), "no MVID on the saved line of %s", path);
    snprintf(out, 37, "%s", m + 7);
}

/* The MVID monodis lists for path's Module row ("1: name 1 {GUID}"). */
static void monodis_mvid(const char *path, char out[37])
{
    const char *argv[] = { "monodis", "--module", path, NULL };
    run_argv(argv);
    ck_assert_msg(res.exited && res.status == 0, "monodis --module %s: %s", path, res.err);
    const char *brace = strchr(res.out, '{');
    ck_assert_msg(brace && strlen(brace) >= 38 && brace[37] == '}', "monodis: %s", res.out);
    snprintf(out, 37, "%.36s", brace + 1);
}

/* Mono.Cecil's ModuleDefinition.Mvid for each file, read by a program this compiles
 * with mcs into dir: one upper-case GUID a line, in argument order. */
static const char mvidof_cs[] =
    "using System; using Mono.Cecil;\n"
    "static class MvidOf { static void Main(string[] args) {\n"
    "  foreach (var p in args)\n"
    "    Console.WriteLine(ModuleDefinition.ReadModule(p).Mvid.ToString(\"D\").ToUpperInvariant());\n"
    "} }\n";

static void write_text(const char *path, const char *text);

static char *cecil_mvids(const char *const *paths, size_t count)
{
    char src[300], exe[300], outopt[320];
    snprintf(src, sizeof src, "%s/mvidof.cs", dir);
    snprintf(exe, sizeof exe, "%s/mvidof.exe", dir);
    snprintf(outopt, sizeof outopt, "-out:%s", exe);
    if (access(exe, R_OK) != 0) {
        write_text(src, mvidof_cs);
        const char *mcs[] = { "mcs", "-nologo", "-r:" CECIL_DLL, outopt, src, NULL };
        run_argv(mcs);
        ck_assert_msg(res.exited && res.status == 0, "mcs: %s%s", res.out, res.err);
    }
    const char *argv[16] = { "mono", exe };
    ck_assert_uint_le(count, 13);
    for (size_t i = 0; i < count; i++)
        argv[2 + i] = paths[i];
    argv[2 + count] = NULL;
    run_argv(argv);
    ck_assert_msg(res.exited && res.status == 0, "Cecil: %s", res.err);
    return strdup(res.out);
}

START_TEST(test_run_save)
{
    char paths[7][512];
    const char *images[7];
    size_t count = 0;
    for (size_t i = 0; i < 7; i++) {
        fx_path(paths[count], sizeof paths[count], il_fixtures[i]);
        if (have_cs_fixture(paths[count], "test_run_save")) {
            images[count] = paths[count];
            count++;
        }
    }
    ck_assert_msg(run_save(dir, images, count) == 0, "run --save: %s", res.err);
    char *save_err = strdup(res.err);
    json_error_t err;
    json_t *root = json_loads(res.out, 0, &err);
    ck_assert_ptr_nonnull(root);
    json_t *mods = json_object_get(root, "modules");
    ck_assert_uint_eq(json_array_size(mods), count);
    for (size_t i = 0; i < count; i++) {
        char saved[512];
        const char *base = strrchr(images[i], '/') + 1;
        snprintf(saved, sizeof saved, "%s/%s", dir, base);
        ck_assert_msg(access(saved, R_OK) == 0, "%s not written", saved);

        const char *verify[] = { ILG_CLI_PATH, "verify", saved, NULL };
        fx_result vr = { 0 };
        ck_assert(fx_run(verify, &vr));
        ck_assert_msg(vr.exited && vr.status == 0, "verify %s: %s%s", saved, vr.out, vr.err);
        fx_result_free(&vr);
        if (fx_have_program("monodis")) {
            const char *dis[] = { "monodis", saved, NULL };
            ck_assert(fx_run(dis, &vr));
            ck_assert_msg(vr.exited && vr.status == 0 && strstr(vr.out, ".method"),
                          "monodis %s: %s", saved, vr.err);
            fx_result_free(&vr);
        }
        /* The saved MethodDef RVAs are the report's new RVAs. */
        ilg_image *img;
        const ilg_metadata *md;
        ck_assert_int_eq(ilg_image_open(saved, NULL, &img), ILG_OK);
        ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
        json_t *methods = json_object_get(json_array_get(mods, i), "methods");
        uint32_t rewritten = 0;
        for (size_t k = 0; k < json_array_size(methods); k++) {
            json_t *jm = json_array_get(methods, k);
            ilg_method_info mi;
            ck_assert_int_eq(ilg_md_method(md, (uint32_t)k + 1, &mi), ILG_OK);
            bool rw = strcmp(json_string_value(json_object_get(jm, "status")), "rewritten") == 0;
            uint64_t want = json_integer_value(json_object_get(jm, rw ? "new_rva" : "old_rva"));
            ck_assert_uint_eq(mi.rva, want);
            rewritten += rw;
        }
        ck_assert_uint_gt(rewritten, 0);
        ilg_image_close(img);
    }
    json_decref(root);

    /* The new MVIDs, read by three readers: the saved line, monodis --module and
     * Mono.Cecil (ModuleDefinition.Mvid). Each differs from its input's. */
    if (have_mono_tools()) {
        char saved[7][512];
        const char *saved_paths[7];
        for (size_t i = 0; i < count; i++) {
            snprintf(saved[i], sizeof saved[i], "%s/%s", dir, strrchr(images[i], '/') + 1);
            saved_paths[i] = saved[i];
        }
        char *cecil_in = cecil_mvids(images, count), *cecil_out = cecil_mvids(saved_paths, count);
        const char *ci = cecil_in, *co = cecil_out;
        for (size_t i = 0; i < count; i++) {
            char line[37], dis_in[37], dis_out[37];
            saved_line_mvid(save_err, saved[i], line);
            monodis_mvid(images[i], dis_in);
            monodis_mvid(saved[i], dis_out);
            ck_assert_str_eq(dis_out, line);
            ck_assert_str_ne(dis_out, dis_in);
            ck_assert_msg(strncmp(co, line, 36) == 0 && co[36] == '\n', "Cecil reads %.36s in "
                          "%s, the save wrote %s", co, saved[i], line);
            ck_assert_msg(strncmp(ci, dis_in, 36) == 0, "Cecil and monodis differ on %s",
                          images[i]);
            ci += 37;
            co += 37;
        }
        free(cecil_in);
        free(cecil_out);
    }

    /* The application files beside the C# fixture were copied, byte for byte; the ilasm
     * fixtures have none, and none appear. */
    for (size_t i = 0; i < count; i++) {
        static const char *const suffixes[] = { ".runtimeconfig.json", ".deps.json" };
        const char *base = strrchr(images[i], '/') + 1;
        int stem = (int)(strrchr(base, '.') - base);
        for (size_t k = 0; k < 2; k++) {
            char in_file[600], out_file[600];
            snprintf(in_file, sizeof in_file, "%.*s%s", (int)(base - images[i]) + stem,
                     images[i], suffixes[k]);
            snprintf(out_file, sizeof out_file, "%s/%.*s%s", dir, stem, base, suffixes[k]);
            size_t n_in = 0, n_out = 0;
            char *a = fx_read_file(in_file, &n_in), *b = fx_read_file(out_file, &n_out);
            ck_assert_msg(!a == !b, "%s: %s beside the input, %s beside the saved image",
                          out_file, a ? "present" : "absent", b ? "present" : "absent");
            ck_assert(!a || (n_in == n_out && memcmp(a, b, n_in) == 0));
            if (a)
                ck_assert_ptr_nonnull(strstr(save_err, out_file));
            free(a);
            free(b);
        }
    }
    free(save_err);

    /* Saved programs under mono: calc's Add became a multiply (2 * 3). */
    if (fx_have_program("mono")) {
        char saved[512];
        snprintf(saved, sizeof saved, "%s/calc.exe", dir);
        const char *orig_argv[] = { "mono", images[0], NULL };
        run_argv(orig_argv);
        ck_assert_str_eq(res.out, "5\n");
        const char *argv[] = { "mono", saved, NULL };
        run_argv(argv);
        ck_assert_msg(res.exited && res.status == 0, "%s", res.err);
        ck_assert_str_eq(res.out, "6\n");
        /* eh.exe has no rule that changes it: same output as the original. */
        char orig[512];
        fx_path(orig, sizeof orig, "eh.exe");
        const char *eh_orig[] = { "mono", orig, NULL };
        run_argv(eh_orig);
        char *want = strdup(res.out);
        snprintf(saved, sizeof saved, "%s/eh.exe", dir);
        const char *eh_saved[] = { "mono", saved, NULL };
        run_argv(eh_saved);
        ck_assert_str_eq(res.out, want);
        free(want);
    }

    /* Saving over the inputs is refused. */
    char fixdir[512];
    fx_path(fixdir, sizeof fixdir, "");
    ck_assert_int_eq(run_save(fixdir, images, 1), 1);
    ck_assert_ptr_nonnull(strstr(res.err, "would overwrite its own input"));
    /* --keep-mvid without --save is a usage error. */
    const char *keep_only[] = { ILG_CLI_PATH, "run", "--profiler", ILG_PROF_SAVE, "--clsid",
                                TEST_CLSID, "--keep-mvid", images[0], NULL };
    run_argv(keep_only);
    ck_assert(res.exited && res.status == 2);
    ck_assert_ptr_nonnull(strstr(res.err, "--keep-mvid needs --save"));
}
END_TEST

/* Mono's AOT images are keyed by MVID. Mono looks for NAME.so beside an assembly, in
 * --aot-path directories and in its aot-cache directory, and uses the image when the
 * MVID it was compiled for is the assembly's. The input's AOT image beside a saved
 * calc.exe: with the MVID kept, mono runs the input's native code and prints 5 (the
 * rewrite silently lost); with the new MVID it refuses the image and JIT-compiles the
 * saved IL: 6. The same through --aot-path. */
START_TEST(test_saved_mono_aot)
{
    if (!have_mono_tools())
        return;
    char in_dir[300], fresh[300], kept[300], calc[400], aot[400], cmd[2048];
    char fresh_exe[400], kept_exe[400], aot_path[320];
    snprintf(in_dir, sizeof in_dir, "%s/in", dir);
    snprintf(fresh, sizeof fresh, "%s/new", dir);
    snprintf(kept, sizeof kept, "%s/kept", dir);
    snprintf(calc, sizeof calc, "%s/calc.exe", in_dir);
    snprintf(aot, sizeof aot, "%s/calc.exe.so", in_dir);
    snprintf(fresh_exe, sizeof fresh_exe, "%s/calc.exe", fresh);
    snprintf(kept_exe, sizeof kept_exe, "%s/calc.exe", kept);
    snprintf(aot_path, sizeof aot_path, "--aot-path=%s", in_dir);
    ck_assert_int_eq(mkdir(in_dir, 0755), 0);
    ck_assert_int_eq(mkdir(fresh, 0755), 0);
    ck_assert_int_eq(mkdir(kept, 0755), 0);
    char fixture[512];
    fx_path(fixture, sizeof fixture, "calc.exe");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", fixture, calc);
    ck_assert_int_eq(system(cmd), 0);
    const char *compile[] = { "mono", "--aot", calc, NULL };
    run_argv(compile);
    ck_assert_msg(res.exited && res.status == 0 && access(aot, R_OK) == 0, "mono --aot: %s%s",
                  res.out, res.err);
    const char *images[] = { calc };
    ck_assert_msg(run_save(fresh, images, 1) == 0, "%s", res.err);
    ck_assert_msg(run_save_with("--keep-mvid", kept, images, 1) == 0, "%s", res.err);
    ck_assert_ptr_nonnull(strstr(res.err, "(kept)"));

    const char *input_argv[] = { "mono", calc, NULL };
    const char *fresh_argv[] = { "mono", fresh_exe, NULL };
    const char *kept_argv[] = { "mono", kept_exe, NULL };
    char *out = run_out(input_argv);
    ck_assert_str_eq(out, "5\n");
    free(out);
    /* Without an AOT image both saved images run the rewrite. */
    out = run_out(fresh_argv);
    ck_assert_str_eq(out, "6\n");
    free(out);
    out = run_out(kept_argv);
    ck_assert_str_eq(out, "6\n");
    free(out);

    /* The input's AOT image beside each. */
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/' && cp '%s' '%s/'", aot, fresh, aot, kept);
    ck_assert_int_eq(system(cmd), 0);
    out = run_out(kept_argv);
    ck_assert_str_eq(out, "5\n");
    free(out);
    out = run_out(fresh_argv);
    ck_assert_str_eq(out, "6\n");
    free(out);
    /* Why, in mono's AOT log (written to stdout, among the program's output). */
    setenv("MONO_LOG_LEVEL", "debug", 1);
    setenv("MONO_LOG_MASK", "aot", 1);
    out = run_out(kept_argv);
    ck_assert_ptr_nonnull(strstr(out, "/kept/calc.exe.so' found."));
    ck_assert_ptr_nonnull(strstr(out, "FOUND method Calc:Main"));
    free(out);
    out = run_out(fresh_argv);
    ck_assert_ptr_nonnull(strstr(out, "/new/calc.exe.so is unusable: doesn't match assembly"));
    ck_assert_ptr_null(strstr(out, "FOUND method Calc:"));
    free(out);
    unsetenv("MONO_LOG_LEVEL");
    unsetenv("MONO_LOG_MASK");

    /* The same image found through --aot-path. */
    snprintf(cmd, sizeof cmd, "rm '%s/calc.exe.so' '%s/calc.exe.so'", fresh, kept);
    ck_assert_int_eq(system(cmd), 0);
    const char *kept_path[] = { "mono", aot_path, kept_exe, NULL };
    const char *fresh_path[] = { "mono", aot_path, fresh_exe, NULL };
    out = run_out(kept_path);
    ck_assert_str_eq(out, "5\n");
    free(out);
    out = run_out(fresh_path);
    ck_assert_str_eq(out, "6\n");
    free(out);
}
END_TEST

/* Debian's mono-mcs compiles mcs.exe ahead of time when it is installed (its postinst:
 * mono --aot=outfile=/usr/lib/mono/aot-cache/ARCH/mcs.exe.so), and mono finds that
 * image by file name for any mcs.exe. mcs.exe saved with CommandLineParser::Version
 * replaced by a call to Usage: with the new MVID, `mono out/mcs.exe --version` prints
 * the usage text; with the MVID kept, mono runs the cached native code and prints the
 * version, as the unchanged compiler does. */
#define MCS_EXE "/usr/lib/mono/4.5/mcs.exe"
#define MCS_AOT_CACHE "/usr/lib/mono/aot-cache/amd64/mcs.exe.so"

START_TEST(test_saved_mcs_aot_cache)
{
    if (!have_mono_tools())
        return;
    ck_assert_msg(ILG_PLUGIN[0] && access(ILG_PLUGIN, R_OK) == 0, "the plugin is not built");
    ck_assert_msg(access(MCS_EXE, R_OK) == 0, "%s is missing (mono-mcs)", MCS_EXE);
    char fresh[300], kept[300], rules[300], fresh_exe[320], kept_exe[320];
    snprintf(fresh, sizeof fresh, "%s/new", dir);
    snprintf(kept, sizeof kept, "%s/kept", dir);
    snprintf(rules, sizeof rules, "%s/mcs.json", dir);
    snprintf(fresh_exe, sizeof fresh_exe, "%s/mcs.exe", fresh);
    snprintf(kept_exe, sizeof kept_exe, "%s/mcs.exe", kept);
    ck_assert_int_eq(mkdir(fresh, 0755), 0);
    ck_assert_int_eq(mkdir(kept, 0755), 0);
    /* The two methods' tokens, from the metadata (not written into the test). */
    ilg_image *img;
    const ilg_metadata *md;
    uint32_t usage = 0, version = 0;
    ck_assert_int_eq(ilg_image_open(MCS_EXE, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    for (uint32_t rid = 1; rid <= ilg_md_row_count(md, ILG_TBL_MethodDef); rid++) {
        char name[512];
        if (ilg_md_method_name(md, rid, name, sizeof name, NULL) != ILG_OK)
            continue;
        if (strcmp(name, "instance void Mono.CSharp.CommandLineParser::Usage()") == 0)
            usage = 0x06000000u | rid;
        if (strcmp(name, "instance void Mono.CSharp.CommandLineParser::Version()") == 0)
            version = 0x06000000u | rid;
    }
    ilg_image_close(img);
    ck_assert(usage && version);
    char text[400];
    snprintf(text, sizeof text,
             "{\"rules\": [{\"match\": \"Mono.CSharp.CommandLineParser::Version\",\n"
             "  \"action\": \"replace\", \"body\": \"ldarg.0\\ncall 0x%08x\\nret\"}]}\n",
             usage);
    write_text(rules, text);
    setenv("ILGRAFT_RULES", rules, 1);
    setenv("ILGRAFT_LOG", "/dev/null", 1);
    const char *run_new[] = { ILG_CLI_PATH, "run", "--profiler", ILG_PLUGIN, "--clsid",
                              PLUGIN_CLSID, "--summary", "--save", fresh, MCS_EXE, NULL };
    const char *run_kept[] = { ILG_CLI_PATH, "run", "--profiler", ILG_PLUGIN, "--clsid",
                               PLUGIN_CLSID, "--summary", "--keep-mvid", "--save", kept,
                               MCS_EXE, NULL };
    run_argv(run_new);
    ck_assert_msg(res.exited && res.status == 0 && strstr(res.out, "1 rewritten"), "%s", res.err);
    run_argv(run_kept);
    ck_assert_msg(res.exited && res.status == 0 && strstr(res.out, "1 rewritten"), "%s", res.err);
    unsetenv("ILGRAFT_RULES");
    unsetenv("ILGRAFT_LOG");

    const char *input_argv[] = { "mono", MCS_EXE, "--version", NULL };
    const char *fresh_argv[] = { "mono", fresh_exe, "--version", NULL };
    const char *kept_argv[] = { "mono", kept_exe, "--version", NULL };
    char *out = run_out(input_argv);
    ck_assert_msg(strncmp(out, "Mono C# compiler version ", 25) == 0, "%s", out);
    free(out);
    out = run_out(fresh_argv);
    ck_assert_msg(strstr(out, "mcs [options] source-files"), "new MVID: %.300s", out);
    free(out);
    out = run_out(kept_argv);
    if (access(MCS_AOT_CACHE, R_OK) == 0)
        ck_assert_msg(strncmp(out, "Mono C# compiler version ", 25) == 0,
                      "kept MVID with %s: %.300s", MCS_AOT_CACHE, out);
    else
        printf("SKIP: %s absent (mono-mcs's postinst did not compile it): the kept MVID "
               "cannot show the stale cache\n", MCS_AOT_CACHE);
    free(out);
}
END_TEST

/* ---- runtime: the C# fixture under CoreCLR and mono -------------------------------- */

/* False (after printing SKIP and why) without dotnet or the C# fixtures; fails under
 * CI=true. */
static bool have_dotnet(void)
{
    const char *why = NULL;
    if (!ILG_DOTNET[0] || access(ILG_DOTNET, X_OK) != 0)
        why = "dotnet not found";
    else if (access(ILG_HELLO_DLL, R_OK) != 0 || access(ILG_CALC_DLL, R_OK) != 0)
        why = "the C# fixtures were not built (fixtures/cs needs dotnet at configure time)";
    return fx_require(!why, "%s (ILG_DOTNET '%s')", why, ILG_DOTNET);
}

/* Hello and Calc saved by `ilgraft run --save` run under dotnet as they are: the
 * runtimeconfig and deps files were copied beside them. */
START_TEST(test_saved_runs_like_live)
{
    if (!have_dotnet())
        return;
    const char *images[] = { ILG_HELLO_DLL, ILG_CALC_DLL };
    ck_assert_msg(run_save(dir, images, 2) == 0, "%s", res.err);
    char saved[512], saved_calc[512];
    snprintf(saved, sizeof saved, "%s/Hello.dll", dir);
    snprintf(saved_calc, sizeof saved_calc, "%s/Calc.dll", dir);
    setenv("DOTNET_CLI_TELEMETRY_OPTOUT", "1", 1);

    const char *plain[] = { ILG_DOTNET, ILG_HELLO_DLL, NULL };
    char *original = run_out(plain);
    ck_assert_ptr_nonnull(strstr(original, "answer = 41\n"));

    char *live;
#if defined(__SANITIZE_ADDRESS__)
    /* A sanitized prof_save cannot load into an uninstrumented dotnet: the live run is
     * checked in the plain build; here the saved image must show the rewrite alone. */
    live = strdup(original);
    char *at = strstr(live, "answer = 41\n");
    at[10] = '2';
#else
    setenv("CORECLR_ENABLE_PROFILING", "1", 1);
    setenv("CORECLR_PROFILER", TEST_CLSID, 1);
    setenv("CORECLR_PROFILER_PATH", ILG_PROF_SAVE, 1);
    setenv("PROF_SAVE_ONLY", "Hello.dll", 1);
    live = run_out(plain);
    unsetenv("CORECLR_ENABLE_PROFILING");
    unsetenv("PROF_SAVE_ONLY");
#endif
    ck_assert_ptr_nonnull(strstr(live, "answer = 42\n"));

    const char *on_dotnet[] = { ILG_DOTNET, saved, NULL };
    char *saved_dotnet = run_out(on_dotnet);
    ck_assert_str_eq(saved_dotnet, live);
    /* Calc: prof_save turns its Add into a multiply. */
    const char *calc_in[] = { ILG_DOTNET, ILG_CALC_DLL, NULL };
    const char *calc_out[] = { ILG_DOTNET, saved_calc, NULL };
    char *calc = run_out(calc_in);
    ck_assert_ptr_nonnull(strstr(calc, "add 2 3 = 5\n"));
    free(calc);
    calc = run_out(calc_out);
    ck_assert_msg(strstr(calc, "add 2 3 = 6\n"), "saved Calc.dll under dotnet: %s", calc);
    free(calc);
    if (fx_have_program("mono")) {
        const char *on_mono[] = { "mono", saved, NULL };
        char *saved_mono = run_out(on_mono);
        ck_assert_str_eq(saved_mono, live);
        free(saved_mono);
    }
    free(original);
    free(live);
    free(saved_dotnet);
}
END_TEST

/* ---- corpus: a third-party library from Mono's GAC, used by a program ------------- */

#define ZIPLIB "/usr/lib/mono/gac/ICSharpCode.SharpZipLib/4.84.0.0__1b03e6acf1164f73/" \
               "ICSharpCode.SharpZipLib.dll"
/* The probe: an internal static void() of the library that only copies TarHeader's
 * "as set" defaults over its defaults (equal unless a program sets them; this one
 * never touches Tar), so calling it changes nothing the program can see. */
#define ZIP_PROBE "ICSharpCode.SharpZipLib.Tar.TarHeader::RestoreSetValues"

static const char zipuser_cs[] =
    "using System; using System.IO; using System.Text;\n"
    "using ICSharpCode.SharpZipLib.Checksums; using ICSharpCode.SharpZipLib.GZip;\n"
    "static class ZipUser { static void Main() {\n"
    "  byte[] data = Encoding.ASCII.GetBytes(\"hello ilgraft, hello ilgraft, hello ilgraft\");\n"
    "  var crc = new Crc32(); crc.Update(data);\n"
    "  Console.WriteLine(\"crc32 = \" + crc.Value.ToString(\"x8\"));\n"
    "  var ms = new MemoryStream();\n"
    "  using (var gz = new GZipOutputStream(ms)) { gz.IsStreamOwner = false;\n"
    "    gz.Write(data, 0, data.Length); }\n"
    "  Console.WriteLine(\"compressed = \" + ms.Length);\n"
    "  ms.Position = 0; var back = new MemoryStream();\n"
    "  using (var gin = new GZipInputStream(ms)) gin.CopyTo(back);\n"
    "  Console.WriteLine(\"roundtrip = \" + Encoding.ASCII.GetString(back.ToArray()));\n"
    "} }\n";

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

static unsigned count_lines_with(const char *text, const char *what)
{
    unsigned n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

START_TEST(test_corpus_library_saved)
{
    if (!ILG_PLUGIN[0] || access(ILG_PLUGIN, R_OK) != 0 || access(ZIPLIB, R_OK) != 0 ||
        !fx_have_program("mcs") || !fx_have_program("mono"))
        return;
    char app[280], lib[400], src[400], exe[400], rules[400], out[280], plog[400];
    char saved_exe[400], saved_lib[400], cmd[1200];
    snprintf(app, sizeof app, "%s/app", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    ck_assert_int_eq(mkdir(app, 0755), 0);
    ck_assert_int_eq(mkdir(out, 0755), 0);
    snprintf(lib, sizeof lib, "%s/ICSharpCode.SharpZipLib.dll", app);
    snprintf(src, sizeof src, "%s/zipuser.cs", app);
    snprintf(exe, sizeof exe, "%s/zipuser.exe", app);
    snprintf(rules, sizeof rules, "%s/rules.json", dir);
    snprintf(plog, sizeof plog, "%s/plugin.log", dir);
    snprintf(saved_exe, sizeof saved_exe, "%s/zipuser.exe", out);
    snprintf(saved_lib, sizeof saved_lib, "%s/ICSharpCode.SharpZipLib.dll", out);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", ZIPLIB, lib);
    ck_assert_int_eq(system(cmd), 0);
    write_text(src, zipuser_cs);
    const char *mcs[] = { "mcs", "-nologo", "-nowarn:618", "-r:" ZIPLIB, src, NULL };
    char outopt[420];
    snprintf(outopt, sizeof outopt, "-out:%s", exe);
    const char *mcs_argv[] = { mcs[0], mcs[1], mcs[2], mcs[3], outopt, mcs[4], NULL };
    run_argv(mcs_argv);
    ck_assert_msg(res.exited && res.status == 0, "mcs: %s%s", res.out, res.err);
    write_text(rules, "{\"rules\": [{\"match\": \"*\", \"action\": \"identity\"},\n"
                      " {\"match\": \"ICSharpCode.SharpZipLib.Checksums.Crc32::*\",\n"
                      "  \"action\": \"probe-entry\", \"probe\": \"" ZIP_PROBE "\"}]}\n");

    const char *trace = "--trace=M:ICSharpCode.SharpZipLib.Tar.TarHeader:RestoreSetValues";
    const char *orig_argv[] = { "mono", trace, exe, NULL };
    run_argv(orig_argv);
    ck_assert_msg(res.exited && res.status == 0, "%s", res.err);
    ck_assert_uint_eq(count_lines_with(res.out, "ENTER: ICSharpCode.SharpZipLib.Tar.TarHeader:"
                                                "RestoreSetValues"), 0);
    const char *plain_argv[] = { "mono", exe, NULL };
    run_argv(plain_argv);
    char *original = strdup(res.out);
    ck_assert_ptr_nonnull(strstr(original, "roundtrip = hello ilgraft"));

    /* Identity on every method, probe-entry on Crc32's, through the host; saved. */
    setenv("ILGRAFT_RULES", rules, 1);
    setenv("ILGRAFT_LOG", plog, 1);
    const char *run[] = { ILG_CLI_PATH, "run", "--profiler", ILG_PLUGIN, "--clsid",
                          PLUGIN_CLSID, "--save", out, lib, NULL };
    run_argv(run);
    unsetenv("ILGRAFT_RULES");
    unsetenv("ILGRAFT_LOG");
    ck_assert_msg(res.exited && res.status == 0, "run --save: %s", res.err);
    /* (Mono's build of this library has a strong-name key but no signed flag, so there
     * is no warning here; test_save_strong_name_checksum covers that case.) */
    ck_assert_ptr_nonnull(strstr(res.err, "ilgraft: saved "));
    ck_assert_ptr_nonnull(strstr(res.out, " 0 rejected"));
    char *log = fx_read_file(plog, NULL);
    ck_assert_ptr_nonnull(log);
    unsigned probed = count_lines_with(log, "probe-entry(entry)");
    ck_assert_uint_gt(probed, 3);
    free(log);
    const char *verify[] = { ILG_CLI_PATH, "verify", saved_lib, NULL };
    run_argv(verify);
    ck_assert_msg(res.exited && res.status == 0, "verify: %s", res.out);

    /* The program, unchanged, next to the saved library. */
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", exe, saved_exe);
    ck_assert_int_eq(system(cmd), 0);
    const char *saved_argv[] = { "mono", saved_exe, NULL };
    run_argv(saved_argv);
    ck_assert_msg(res.exited && res.status == 0, "%s", res.err);
    ck_assert_str_eq(res.out, original);
    const char *traced[] = { "mono", trace, saved_exe, NULL };
    run_argv(traced);
    ck_assert_msg(res.exited && res.status == 0, "%s", res.err);
    ck_assert_uint_gt(count_lines_with(res.out, "ENTER: ICSharpCode.SharpZipLib.Tar.TarHeader:"
                                                "RestoreSetValues"), 0);
    free(original);
}
END_TEST

/* ---- r2r: a ReadyToRun image ------------------------------------------------------------ */

#define PLUGIN_CLSID "{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}"

/* `ilgraft run --save dir` over the ReadyToRun fixture with the plugin and rules (and
 * extra, an option or NULL), returning the JSON report. */
static json_t *run_plugin_save(const char *image, const char *rules, const char *extra)
{
    const char *argv[16];
    int n = 0;
    argv[n++] = ILG_CLI_PATH;
    argv[n++] = "run";
    argv[n++] = "--profiler";
    argv[n++] = ILG_PLUGIN;
    argv[n++] = "--clsid";
    argv[n++] = PLUGIN_CLSID;
    argv[n++] = "--rules";
    argv[n++] = rules;
    argv[n++] = "--json";
    argv[n++] = "--save";
    argv[n++] = dir;
    if (extra)
        argv[n++] = extra;
    argv[n++] = image;
    argv[n] = NULL;
    run_argv(argv);
    ck_assert_msg(res.exited && res.status == 0, "run --save: %s", res.err);
    json_error_t err;
    json_t *root = json_loads(res.out, 0, &err);
    ck_assert_ptr_nonnull(root);
    return root;
}

/* The report's rewritten methods as flags (rows + 1), counted. */
static bool *report_rewritten(json_t *report, uint32_t rows, uint32_t *rewritten)
{
    bool *rw = calloc(rows + 1, 1);
    json_t *methods = json_object_get(json_array_get(json_object_get(report, "modules"), 0), "methods");
    *rewritten = 0;
    for (size_t k = 0; k < json_array_size(methods) && k < rows; k++)
        if (strcmp(json_string_value(json_object_get(json_array_get(methods, k), "status")), "rewritten") == 0) {
            rw[k + 1] = true;
            (*rewritten)++;
        }
    return rw;
}

/* Methods (MethodDef and instance entries) that the drop flags take away. */
static void count_drops(const ilg_r2r *r2r, const bool *drop, uint32_t *methods, uint32_t *instances)
{
    *methods = *instances = 0;
    for (uint32_t i = 0; i < ilg_r2r_method_count(r2r); i++) {
        ilg_r2r_method_info m;
        ck_assert_int_eq(ilg_r2r_method(r2r, i, &m), ILG_OK);
        if (drop[m.token & 0xFFFFFF])
            *(m.instance ? instances : methods) += 1;
    }
}

static void same_entry(const ilg_r2r_method_info *a, const ilg_r2r_method_info *b)
{
    ck_assert_uint_eq(a->token, b->token);
    ck_assert_uint_eq(a->runtime_function, b->runtime_function);
    ck_assert_uint_eq(a->code_rva, b->code_rva);
    ck_assert_uint_eq(a->code_size, b->code_size);
    ck_assert_uint_eq(a->has_fixups, b->has_fixups);
    ck_assert_uint_eq(a->fixups_rva, b->fixups_rva);
}

/* The file offsets of the READYTORUN_HEADER section entry cells of a type (RVA, size). */
static uint64_t r2r_section_cell(ilg_image *img, const ilg_r2r_info *in, uint32_t type)
{
    for (uint32_t i = 0; i < in->section_count; i++)
        if (in->sections[i].type == type) {
            uint64_t off;
            ck_assert_int_eq(ilg_image_rva_to_offset(img, in->header_rva + 16 + 12 * i + 4, &off), ILG_OK);
            return off;
        }
    ck_abort_msg("no ReadyToRun section %u", type);
    return 0;
}

/* A saved ReadyToRun image's MVID (run_plugin_save just wrote out_path from in_path):
 * the input's MVID bytes (found through its Module row, then in the file) hold a new
 * one, and it is the hash docs/save.md defines, recomputed here over the saved file as
 * it is: with the filtered tables and the patched READYTORUN_HEADER cells, so they were
 * in place before the MVID was made. The "saved" line names it. Returns its offset. */
static uint64_t r2r_saved_mvid(const char *in_path, const char *out_path)
{
    size_t n, out_n;
    uint8_t *a = (uint8_t *)fx_read_file(in_path, &n), *b = (uint8_t *)fx_read_file(out_path, &out_n);
    ck_assert(a && b);
    ilg_image *img;
    const ilg_metadata *md;
    const uint8_t *old;
    uint32_t index;
    ilg_column_info ci;
    ck_assert_int_eq(ilg_image_open(in_path, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ck_assert_int_eq(ilg_md_cell(md, ILG_TBL_Module, 1, module_column(md, "Mvid", &ci), &index),
                     ILG_OK);
    ck_assert_int_eq(ilg_md_guid(md, index, &old), ILG_OK);
    const uint8_t *at = memmem(a, n, old, 16);
    ck_assert_ptr_nonnull(at);
    ck_assert_ptr_null(memmem(at + 1, n - (size_t)(at + 1 - a), old, 16)); /* only there */
    const uint64_t off = (uint64_t)(at - a);
    ck_assert_uint_le(off + 16, out_n);
    ck_assert_msg(memcmp(b + off, old, 16) != 0, "the saved image kept its MVID");
    uint8_t want[16];
    expected_mvid(old, b, out_n, off, pe_read(b, out_n).checksum_at, want);
    ck_assert_msg(memcmp(b + off, want, 16) == 0,
                  "the MVID is not the hash of the saved file (tables patched after it?)");
    char line[37], text[37];
    saved_line_mvid(res.err, out_path, line);
    mvid_text(want, text);
    ck_assert_str_eq(line, text);
    ilg_image_close(img);
    free(a);
    free(b);
    return off;
}

START_TEST(test_save_readytorun_filtered)
{
    char fixture[4096], rules[4096], saved[4400];
    if (!fx_r2r_fixture(fixture, sizeof fixture))
        return;
    ck_assert_msg(ILG_PLUGIN[0], "the plugin was not built");
    snprintf(rules, sizeof rules, "%s/tests/integration/rules/r2r_mutate_add.json", ILG_SOURCE_DIR);
    json_t *report = run_plugin_save(fixture, rules, NULL);
    snprintf(saved, sizeof saved, "%s/ReadyToRun.dll", dir);

    ilg_image *in_img, *out_img;
    const ilg_metadata *md, *out_md;
    const ilg_r2r *in_r2r, *out_r2r;
    ilg_r2r_info in, out;
    ck_assert_int_eq(ilg_image_open(fixture, NULL, &in_img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(in_img, &md), ILG_OK);
    ck_assert_int_eq(ilg_image_readytorun(in_img, &in_r2r), ILG_OK);
    ck_assert_int_eq(ilg_image_open(saved, NULL, &out_img), ILG_OK);
    ck_assert_int_eq(ilg_image_metadata(out_img, &out_md), ILG_OK);
    ck_assert_int_eq(ilg_image_readytorun(out_img, &out_r2r), ILG_OK);
    ilg_r2r_get_info(in_r2r, &in);
    ilg_r2r_get_info(out_r2r, &out);
    const uint32_t rows = ilg_md_row_count(md, ILG_TBL_MethodDef);
    uint32_t rewritten, rewritten_with_code = 0;
    bool *drop = report_rewritten(report, rows, &rewritten);
    ck_assert_uint_eq(rewritten, 1);
    for (uint32_t rid = 1; rid <= rows; rid++) {
        ilg_r2r_method_info m;
        rewritten_with_code += drop[rid] && ilg_r2r_method_for_rid(in_r2r, rid, &m) == ILG_OK;
    }
    fx_r2r_inliner_closure(in_r2r, drop);

    /* Entry by entry: the dropped are gone, the others unchanged, in the same order. */
    uint32_t dropped = 0, kept = 0, inst_dropped = 0, j = in.methoddef_entries;
    for (uint32_t i = 0; i < ilg_r2r_method_count(in_r2r); i++) {
        ilg_r2r_method_info a, b;
        ck_assert_int_eq(ilg_r2r_method(in_r2r, i, &a), ILG_OK);
        const bool gone = drop[a.token & 0xFFFFFF];
        if (!a.instance) {
            ck_assert_int_eq(ilg_r2r_method_for_rid(out_r2r, a.token & 0xFFFFFF, &b),
                             gone ? ILG_E_NOT_FOUND : ILG_OK);
            if (!gone)
                same_entry(&a, &b), kept++;
            dropped += gone;
            continue;
        }
        if (gone) {
            inst_dropped++;
            continue;
        }
        ck_assert_int_eq(ilg_r2r_method(out_r2r, out.methoddef_entries + (j++ - in.methoddef_entries), &b), ILG_OK);
        same_entry(&a, &b);
        ck_assert_uint_eq(a.sig_rva, b.sig_rva);
        ck_assert_uint_eq(a.bucket, b.bucket);
        ck_assert_uint_eq(a.low_hash, b.low_hash);
    }
    ck_assert_uint_eq(out.methoddef_entries, kept);
    ck_assert_uint_eq(out.instance_entries, in.instance_entries - inst_dropped);
    ck_assert_uint_gt(dropped, 1);      /* Add, and what inlined it */
    ck_assert_uint_gt(kept, 0);
    ck_assert_uint_gt(inst_dropped, 0); /* Box<T>.Plus's instantiations */
    ck_assert_uint_eq(out.methoddef_slots, in.methoddef_slots);
    ck_assert_uint_eq(out.instance_buckets, in.instance_buckets);
    char warning[256];
    snprintf(warning, sizeof warning, "ReadyToRun: %u of %u precompiled methods lose their code "
             "(%u rewritten, %u that inlined a rewritten method, 0 [NonVersionable] whose "
             "inlining is not recorded) and %u of %u instantiations",
             dropped, in.methoddef_entries, rewritten_with_code, dropped - rewritten_with_code,
             inst_dropped, in.instance_entries);
    ck_assert_msg(strstr(res.err, warning) != NULL, "no '%s' in: %s", warning, res.err);

    /* Bytes: the input's, but for the headers, Add's RVA cell, the two section entries
     * (RVA, size) of MethodDefEntryPoints and InstanceMethodEntryPoints, and the MVID. */
    const uint64_t mvid_at = r2r_saved_mvid(fixture, saved);
    size_t n, out_n;
    uint8_t *a = (uint8_t *)fx_read_file(fixture, &n), *b = (uint8_t *)fx_read_file(saved, &out_n);
    pe_view va = pe_read(a, n), vb = pe_read(b, out_n);
    uint64_t cells[9], methoddef_cell = 0;
    cells[0] = r2r_section_cell(in_img, &in, ILG_R2R_METHODDEF_ENTRY_POINTS);
    cells[1] = cells[0] + 4;
    cells[2] = r2r_section_cell(in_img, &in, ILG_R2R_INSTANCE_METHOD_ENTRY_POINTS);
    cells[3] = cells[2] + 4;
    for (uint32_t rid = 1; rid <= rows; rid++) {
        ilg_method_info mi, mo;
        ck_assert_int_eq(ilg_md_method(md, rid, &mi), ILG_OK);
        ck_assert_int_eq(ilg_md_method(out_md, rid, &mo), ILG_OK);
        if (mi.rva != mo.rva) {
            const uint8_t *p = memmem(a + va.soh, n - va.soh, &mi.rva, 4);
            ck_assert_ptr_nonnull(p);
            methoddef_cell = (uint64_t)(p - a);
        }
    }
    cells[4] = methoddef_cell;
    for (int k = 0; k < 4; k++)
        cells[5 + k] = mvid_at + 4 * (uint64_t)k;
    for (size_t off = va.soh; off < n; off++) {
        bool patched = false;
        for (int c = 0; c < 9; c++)
            patched |= off >= cells[c] && off < cells[c] + 4;
        ck_assert_msg(patched || a[off] == b[off], "byte 0x%zx changed", off);
    }
    /* The new section, as CoreCLR's Unix loader needs it: page-aligned address and file
     * offset, raw data covering the virtual size. */
    const uint8_t *sh = b + vb.sections + 40 * (vb.nsec - 1);
    ck_assert_uint_eq(vb.nsec, va.nsec + 1);
    ck_assert_uint_eq(rd32(sh + 12) % 4096, 0);
    ck_assert_uint_eq(rd32(sh + 20) % 4096, 0);
    ck_assert_uint_ge(rd32(sh + 16), rd32(sh + 8));
    ck_assert_uint_eq(rd32(sh + 12), up(va.soi, 4096));
    free(a);
    free(b);
    free(drop);
    json_decref(report);
    ilg_image_close(in_img);
    ilg_image_close(out_img);
}
END_TEST

/* The library call: ilg_save_result says what was done, for one method (Add, inlined
 * elsewhere), for every method with IL (everything goes) and with r2r_disable; the file
 * ilg_save_write writes is the buffer ilg_save_build builds. */
START_TEST(test_save_readytorun_result)
{
    char fixture[4096], path[4400];
    if (!fx_r2r_fixture(fixture, sizeof fixture))
        return;
    grafted g;
    graft(fixture, &g);
    const ilg_r2r *r2r;
    ilg_r2r_info in;
    ck_assert_int_eq(ilg_image_readytorun(g.img, &r2r), ILG_OK);
    ilg_r2r_get_info(r2r, &in);
    const uint32_t rows = ilg_md_row_count(g.md, ILG_TBL_MethodDef);
    size_t add = 0;
    for (size_t i = 0; i < g.count; i++) {
        char name[256];
        ck_assert_int_eq(ilg_md_method_name(g.md, g.list[i].rid, name, sizeof name, NULL), ILG_OK);
        if (strstr(name, "Calc::Add("))
            add = i;
    }
    for (int mode = 0; mode < 3; mode++) {
        /* 0: Add only; 1: every method with IL; 2: Add only, r2r_disable */
        const ilg_save_method *list = mode == 1 ? g.list : &g.list[add];
        const size_t count = mode == 1 ? g.count : 1;
        bool *drop = calloc(rows + 1, 1);
        for (size_t i = 0; i < count; i++)
            drop[list[i].rid] = true;
        fx_r2r_inliner_closure(r2r, drop);
        uint32_t methods, instances;
        count_drops(r2r, drop, &methods, &instances);
        ilg_save_options opts = { .log = stderr, .r2r_disable = mode == 2 };
        uint8_t *out = NULL;
        size_t out_n = 0;
        ilg_save_result r;
        ck_assert_int_eq(ilg_save_build(g.img, list, count, &opts, &out, &out_n, &r), ILG_OK);
        if (mode == 2) {
            ck_assert_int_eq(r.r2r, ILG_SAVE_R2R_DISABLED);
            ck_assert_uint_eq(r.r2r_methods_dropped, in.methoddef_entries);
            ck_assert_uint_eq(r.r2r_instances_dropped, in.instance_entries);
            ck_assert_uint_eq(r.r2r_methods_kept + r.r2r_instances_kept + r.r2r_tables_size, 0);
        } else {
            ck_assert_int_eq(r.r2r, ILG_SAVE_R2R_FILTERED);
            ck_assert_uint_eq(r.r2r_methods_dropped, methods);
            ck_assert_uint_eq(r.r2r_instances_dropped, instances);
            ck_assert_uint_eq(r.r2r_methods_kept, in.methoddef_entries - methods);
            ck_assert_uint_eq(r.r2r_instances_kept, in.instance_entries - instances);
            ck_assert_uint_ge(r.r2r_tables_rva, r.section_rva);
            ck_assert_uint_le(r.r2r_tables_rva + r.r2r_tables_size, r.section_rva + r.section_vsize);
        }
        if (mode == 1)
            ck_assert_uint_eq(r.r2r_methods_kept, 0);
        /* The saved image reads back with what was kept (all of it when disabled). */
        ilg_image *back;
        const ilg_r2r *back_r2r;
        ilg_r2r_info bi;
        ck_assert_int_eq(ilg_image_open_memory(out, out_n, "saved", NULL, &back), ILG_OK);
        ck_assert_int_eq(ilg_image_readytorun(back, &back_r2r), ILG_OK);
        ilg_r2r_get_info(back_r2r, &bi);
        ck_assert_uint_eq(bi.methoddef_entries, mode == 2 ? in.methoddef_entries : r.r2r_methods_kept);
        ck_assert_uint_eq(bi.instance_entries, mode == 2 ? in.instance_entries : r.r2r_instances_kept);
        ck_assert_uint_eq(bi.major_version, mode == 2 ? 0 : in.major_version);
        ilg_image_close(back);
        snprintf(path, sizeof path, "%s/mode%d.dll", dir, mode);
        ilg_save_result w;
        ck_assert_int_eq(ilg_save_write(g.img, list, count, &opts, path, &w), ILG_OK);
        size_t fn;
        uint8_t *file = (uint8_t *)fx_read_file(path, &fn);
        ck_assert(fn == out_n && memcmp(file, out, fn) == 0);
        ck_assert_int_eq(w.r2r, r.r2r);
        free(file);
        free(drop);
        ilg_save_free(out);
    }
    ungraft(&g);
}
END_TEST

/* --save-r2r-off: one cell, the header's version (MajorVersion 0: the runtime ignores
 * the precompiled code), the tables untouched, and the warning says so. */
START_TEST(test_save_readytorun_disabled)
{
    char fixture[4096], rules[4096], saved[4400];
    if (!fx_r2r_fixture(fixture, sizeof fixture))
        return;
    snprintf(rules, sizeof rules, "%s/tests/integration/rules/r2r_mutate_add.json", ILG_SOURCE_DIR);
    json_t *report = run_plugin_save(fixture, rules, "--save-r2r-off");
    snprintf(saved, sizeof saved, "%s/ReadyToRun.dll", dir);
    ilg_image *img, *out_img;
    const ilg_r2r *r2r, *out_r2r;
    ilg_r2r_info in, out;
    ck_assert_int_eq(ilg_image_open(fixture, NULL, &img), ILG_OK);
    ck_assert_int_eq(ilg_image_readytorun(img, &r2r), ILG_OK);
    ck_assert_int_eq(ilg_image_open(saved, NULL, &out_img), ILG_OK);
    ck_assert_int_eq(ilg_image_readytorun(out_img, &out_r2r), ILG_OK);
    ilg_r2r_get_info(r2r, &in);
    ilg_r2r_get_info(out_r2r, &out);
    ck_assert_uint_ne(in.major_version, 0);
    ck_assert_uint_eq(out.major_version, 0);
    ck_assert_uint_eq(out.minor_version, in.minor_version);
    ck_assert_uint_eq(out.methoddef_entries, in.methoddef_entries);
    ck_assert_uint_eq(out.instance_entries, in.instance_entries);
    for (uint32_t i = 0; i < in.section_count; i++) {
        ck_assert_uint_eq(out.sections[i].rva, in.sections[i].rva);
        ck_assert_uint_eq(out.sections[i].size, in.sections[i].size);
    }
    char warning[256];
    snprintf(warning, sizeof warning, "MajorVersion %u -> 0): all %u precompiled methods and %u "
             "instantiations will be JIT-compiled", in.major_version, in.methoddef_entries,
             in.instance_entries);
    ck_assert_msg(strstr(res.err, warning) != NULL, "no '%s' in: %s", warning, res.err);
    r2r_saved_mvid(fixture, saved);
    json_decref(report);
    ilg_image_close(img);
    ilg_image_close(out_img);
}
END_TEST

/* A rewritten [NonVersionable] method (Math.Max(byte, byte) is one in the runtime's
 * System/Math.cs): crossgen2 records no inliner of such a method, so the save falls back
 * to disabling the image's precompiled code, and says why. */
START_TEST(test_save_readytorun_nonversionable)
{
    glob_t g;
    if (!fx_require(glob("/usr/share/dotnet/shared/Microsoft.NETCore.App/*/System.Private.CoreLib.dll", 0,
                         NULL, &g) == 0,
                    "no .NET shared framework"))
        return;
    ilg_image *img;
    const ilg_metadata *md;
    ilg_arena *arena;
    ck_assert_int_eq(ilg_image_open(g.gl_pathv[0], NULL, &img), ILG_OK);
    globfree(&g);
    ck_assert_int_eq(ilg_image_metadata(img, &md), ILG_OK);
    ck_assert_int_eq(ilg_image_arena(img, &arena), ILG_OK);
    ilg_save_method m = { 0 };
    for (uint32_t rid = 1; rid <= ilg_md_row_count(md, ILG_TBL_MethodDef) && !m.rid; rid++) {
        char name[256];
        ilg_status st = ilg_md_method_name(md, rid, name, sizeof name, NULL);
        if ((st == ILG_OK || st == ILG_E_RANGE) && strcmp(name, "uint8 System.Math::Max(uint8, uint8)") == 0) {
            ilg_method_body b;
            void *p;
            ck_assert_int_eq(ilg_md_method_body(md, rid, &b), ILG_OK);
            ck_assert_int_eq(ilg_arena_alloc(arena, b.body_size, &p, &m.new_rva), ILG_OK);
            memcpy(p, b.header, b.body_size);
            m.rid = rid;
            m.new_size = b.body_size;
        }
    }
    ck_assert_uint_ne(m.rid, 0);
    char log_path[300];
    snprintf(log_path, sizeof log_path, "%s/log", dir);
    FILE *log = fopen(log_path, "w+");
    ck_assert_ptr_nonnull(log);
    ilg_save_options opts = { .log = log };
    uint8_t *out;
    size_t out_n;
    ilg_save_result r;
    ck_assert_int_eq(ilg_save_build(img, &m, 1, &opts, &out, &out_n, &r), ILG_OK);
    fclose(log);
    ck_assert_int_eq(r.r2r, ILG_SAVE_R2R_DISABLED);
    char *text = fx_read_file(log_path, NULL);
    char want[128];
    snprintf(want, sizeof want, "method 0x%08x is [NonVersionable]", 0x06000000u | m.rid);
    ck_assert_msg(text && strstr(text, want), "log: %s", text);
    free(text);
    ilg_save_free(out);
    ilg_image_close(img);
}
END_TEST

static Suite *save_suite(void)
{
    Suite *s = suite_create("save");
    TCase *tc = tcase_create("build");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_save_bytes, 0, (int)(sizeof il_fixtures / sizeof *il_fixtures));
    tcase_add_test(tc, test_save_nothing);
    tcase_add_test(tc, test_save_small_section_alignment);
    tcase_add_test(tc, test_save_mvid);
    tcase_add_test(tc, test_save_mvid_shared);
    tcase_add_test(tc, test_save_errors);
    tcase_add_test(tc, test_save_header_room);
    tcase_add_test(tc, test_save_strong_name_checksum);
    suite_add_tcase(s, tc);
    tc = tcase_create("host");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_run_save);
    tcase_add_test(tc, test_saved_mono_aot);
    tcase_add_test(tc, test_saved_mcs_aot_cache);
    suite_add_tcase(s, tc);
    tc = tcase_create("runtime");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_saved_runs_like_live);
    suite_add_tcase(s, tc);
    tc = tcase_create("r2r");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_save_readytorun_filtered);
    tcase_add_test(tc, test_save_readytorun_result);
    tcase_add_test(tc, test_save_readytorun_nonversionable);
    tcase_add_test(tc, test_save_readytorun_disabled);
    suite_add_tcase(s, tc);
    tc = tcase_create("corpus");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_corpus_library_saved);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(save_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
