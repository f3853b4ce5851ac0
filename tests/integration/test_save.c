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
 *            profiler) and the saved image under dotnet and under mono print the same.
 * Expected bodies come from the input image and prof_save's fixed rules, not from the
 * code under test. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit/fixture_util.h"
#include "ilgraft/arena.h"
#include "ilgraft/metadata.h"
#include "ilgraft/save.h"

#define TEST_CLSID "{1F6E4A2B-3C5D-4E7F-8091-A2B3C4D5E6F7}"
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
    ck_assert_msg(!fx_is_ci(), "%s: %s was not built (the .NET SDK is required under CI=true)",
                  what, path);
    printf("SKIP: %s: %s was not built (no .NET SDK)\n", what, path);
    return false;
}

static void rm_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
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

static void run_argv(const char *const *argv)
{
    fx_result_free(&res);
    ck_assert(fx_run(argv, &res));
}

static int run_save(const char *out_dir, const char *const *images, size_t count)
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
    argv[n++] = "--save";
    argv[n++] = out_dir;
    for (size_t i = 0; i < count; i++)
        argv[n++] = images[i];
    argv[n] = NULL;
    run_argv(argv);
    return res.exited ? res.status : -1;
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
}
END_TEST

/* ---- runtime: the C# fixture under CoreCLR and mono -------------------------------- */

static char *run_out(const char *const *argv)
{
    run_argv(argv);
    ck_assert_msg(res.exited && res.status == 0, "%s: %s", argv[0], res.err);
    return strdup(res.out);
}

START_TEST(test_saved_runs_like_live)
{
    if (!ILG_DOTNET[0] || access(ILG_DOTNET, X_OK) != 0) {
        ck_assert_msg(!fx_is_ci(), "dotnet not found (ILG_DOTNET '%s') and CI=true", ILG_DOTNET);
        printf("SKIP: test_saved_runs_like_live: dotnet not found\n");
        return;
    }
    if (!have_cs_fixture(ILG_HELLO_DLL, "test_saved_runs_like_live"))
        return;
    const char *images[] = { ILG_HELLO_DLL };
    ck_assert_msg(run_save(dir, images, 1) == 0, "%s", res.err);
    char saved[512], cfg_in[512], cfg_out[512];
    snprintf(saved, sizeof saved, "%s/Hello.dll", dir);
    snprintf(cfg_in, sizeof cfg_in, "%.*s.runtimeconfig.json",
             (int)(strlen(ILG_HELLO_DLL) - 4), ILG_HELLO_DLL);
    snprintf(cfg_out, sizeof cfg_out, "%s/Hello.runtimeconfig.json", dir);
    size_t n;
    char *cfg = fx_read_file(cfg_in, &n);
    ck_assert_ptr_nonnull(cfg);
    FILE *fp = fopen(cfg_out, "w");
    fwrite(cfg, 1, n, fp);
    fclose(fp);
    free(cfg);
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
#define PLUGIN_CLSID "{B2E3A7C4-6D15-4F38-9A21-5C7E0D3F8B94}"
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

static Suite *save_suite(void)
{
    Suite *s = suite_create("save");
    TCase *tc = tcase_create("build");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_save_bytes, 0, (int)(sizeof il_fixtures / sizeof *il_fixtures));
    tcase_add_test(tc, test_save_nothing);
    tcase_add_test(tc, test_save_small_section_alignment);
    tcase_add_test(tc, test_save_errors);
    tcase_add_test(tc, test_save_header_room);
    tcase_add_test(tc, test_save_strong_name_checksum);
    suite_add_tcase(s, tc);
    tc = tcase_create("host");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_run_save);
    suite_add_tcase(s, tc);
    tc = tcase_create("runtime");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_saved_runs_like_live);
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
