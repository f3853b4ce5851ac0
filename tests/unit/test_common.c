/* test_common.c: common/'s shared helpers against independent truth: glibc's iconv for
 * UTF-8 <-> UTF-16, the kernel's own mappings (mmap/mprotect, then /proc/self/maps read
 * by ilg__maps_read and ilg__maps_lookup), sysconf for the page size, and the method-body
 * framing reader (common/cil_body.h) on bytes laid out by hand from ECMA-335 II.25.4. */
#include <check.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cil_body.h"
#include "ilg_private.h"

/* iconv's conversion of in (inlen bytes) from one encoding to another; the output length. */
static size_t iconv_to(const char *to, const char *from, const void *in, size_t inlen, void *out, size_t cap)
{
    iconv_t cd = iconv_open(to, from);
    ck_assert(cd != (iconv_t)-1);
    char *ip = (char *)in, *op = out;
    size_t il = inlen, ol = cap;
    ck_assert_msg(iconv(cd, &ip, &il, &op, &ol) != (size_t)-1, "iconv %s -> %s", from, to);
    iconv_close(cd);
    return cap - ol;
}

static const char *const texts[] = {
    "", "Main", "System.Collections.Generic.List`1", "caf\xc3\xa9", "\xe2\x82\xac 1",
    "\xf0\x9f\x98\x80 smile", "\xe4\xb8\xad\xe6\x96\x87\xe5\x90\x8d\xe5\xad\x97 and a long ASCII tail",
    "mixed \xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xf0\x90\x8d\x88",
};

START_TEST(utf8_to_utf16_as_iconv)
{
    for (size_t t = 0; t < ILG_ARRAY_LEN(texts); t++) {
        uint16_t want[128], got[128];
        size_t wn = iconv_to("UTF-16LE", "UTF-8", texts[t], strlen(texts[t]), want, sizeof want) / 2;
        ck_assert_uint_eq(ilg__utf8_to_utf16(texts[t], SIZE_MAX, NULL, 0), wn + 1);
        ck_assert_uint_eq(ilg__utf8_to_utf16(texts[t], SIZE_MAX, got, 128), wn + 1);
        ck_assert(memcmp(got, want, wn * 2) == 0);
        ck_assert_uint_eq(got[wn], 0);
        /* a buffer one unit short keeps a NUL-terminated prefix */
        if (wn) {
            uint16_t small[128];
            ck_assert_uint_eq(ilg__utf8_to_utf16(texts[t], SIZE_MAX, small, wn), wn + 1);
            ck_assert_uint_eq(small[wn - 1], 0);
        }
    }
    /* invalid sequences become U+FFFD, one per bad byte */
    uint16_t got[8];
    ck_assert_uint_eq(ilg__utf8_to_utf16("a\xff\xc3", SIZE_MAX, got, 8), 4);
    ck_assert_uint_eq(got[0], 'a');
    ck_assert_uint_eq(got[1], 0xFFFD);
    ck_assert_uint_eq(got[2], 0xFFFD);
    /* n bounds the input like a NUL */
    ck_assert_uint_eq(ilg__utf8_to_utf16("Main", 2, got, 8), 3);
    ck_assert_uint_eq(got[1], 'a');
    ck_assert_uint_eq(got[2], 0);
}
END_TEST

START_TEST(utf16_to_utf8_as_iconv)
{
    for (size_t t = 0; t < ILG_ARRAY_LEN(texts); t++) {
        uint16_t w[128];
        char got[256];
        size_t wn = iconv_to("UTF-16LE", "UTF-8", texts[t], strlen(texts[t]), w, sizeof w) / 2;
        w[wn] = 0;
        bool complete = false;
        ck_assert_uint_eq(ilg__utf16_to_utf8(w, SIZE_MAX, got, sizeof got, &complete), strlen(texts[t]));
        ck_assert(complete);
        ck_assert_str_eq(got, texts[t]);
        ck_assert_uint_eq(ilg__utf16_to_utf8(w, wn, got, sizeof got, NULL), strlen(texts[t]));
        /* too small: a prefix of whole characters, NUL-terminated, and complete is false */
        if (wn) {
            size_t n = ilg__utf16_to_utf8(w, SIZE_MAX, got, strlen(texts[t]), &complete);
            ck_assert(!complete);
            ck_assert_uint_lt(n, strlen(texts[t]));
            ck_assert(memcmp(got, texts[t], n) == 0 && got[n] == 0);
        }
    }
}
END_TEST

START_TEST(maps_as_the_kernel_maps)
{
    const size_t page = ilg__page_size();
    ck_assert_uint_eq(page, (size_t)sysconf(_SC_PAGESIZE));
    uint8_t *p = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert(p != MAP_FAILED);
    ck_assert_int_eq(munmap(p + 2 * page, page), 0);          /* a hole above */
    ck_assert_int_eq(mprotect(p + page, page, PROT_READ), 0); /* two mappings */

    ilg_maps_entry *v = NULL, hit;
    size_t n = 0;
    uintptr_t next;
    ck_assert_int_eq(ilg__maps_read(&v, &n), ILG_OK);
    bool rw = false, ro = false;
    for (size_t i = 0; i < n; i++) {
        if (i)
            ck_assert_uint_ge(v[i].lo, v[i - 1].hi); /* ascending, no overlap */
        if (v[i].lo <= (uintptr_t)p && (uintptr_t)p < v[i].hi)
            rw = strncmp(v[i].perms, "rw", 2) == 0 && v[i].path[0] != '/';
        if (v[i].lo <= (uintptr_t)p + page && (uintptr_t)p + page < v[i].hi)
            ro = strncmp(v[i].perms, "r-", 2) == 0 && v[i].hi >= (uintptr_t)p + 2 * page;
    }
    free(v);
    ck_assert(rw && ro);

    ck_assert_int_eq(ilg__maps_lookup((uintptr_t)p + page + 5, &hit, &next), 1);
    ck_assert_str_eq(hit.perms, "r--p");
    ck_assert_uint_le(hit.lo, (uintptr_t)p + page);
    /* the hole: not mapped (unless something took it meanwhile), next above it */
    int found = ilg__maps_lookup((uintptr_t)p + 2 * page, &hit, &next);
    if (found == 0)
        ck_assert_uint_gt(next, (uintptr_t)p + 2 * page);
    /* a file mapping carries its path */
    ck_assert_int_eq(ilg__maps_lookup((uintptr_t)&ilg__maps_lookup, &hit, &next), 1);
    ck_assert_msg(hit.path[0] == '/', "code mapped from '%s'", hit.path);
    ck_assert(strchr(hit.perms, 'x'));
    munmap(p, 2 * page);
}
END_TEST

START_TEST(grow_doubles_and_keeps_contents)
{
    uint32_t *a = NULL, cap = 0;
    for (uint32_t i = 0; i < 1000; i++) {
        ck_assert_int_eq(ilg__grow((void **)&a, &cap, (uint64_t)i + 1, sizeof *a), ILG_OK);
        ck_assert_uint_ge(cap, i + 1);
        a[i] = i * 7;
    }
    ck_assert_uint_eq(cap, 1024);
    for (uint32_t i = 0; i < 1000; i++)
        ck_assert_uint_eq(a[i], i * 7);
    free(a);
    ck_assert_int_eq(ilg__grow((void **)&a, &cap, UINT32_MAX, 1), ILG_E_LIMIT);
    size_t zcap = 0;
    char *z = NULL;
    ck_assert_int_eq(ilg__grow_size((void **)&z, &zcap, 17, 1), ILG_OK);
    ck_assert_uint_eq(zcap, 32);
    ck_assert_int_eq(ilg__grow_size((void **)&z, &zcap, SIZE_MAX / 2, 4), ILG_E_LIMIT);
    ck_assert_uint_eq(zcap, 32);
    free(z);
}
END_TEST

/* A fat body laid out from II.25.4.3 and .5/.6 by hand: header, 2 code bytes, 2 bytes of
 * padding, a small EH section with one clause and reserved bytes 0x1234, then a fat
 * section with one clause. */
START_TEST(cil_body_framing_by_hand)
{
    uint8_t b[12 + 2 + 2 + 16 + 28] = {
        0x1B, 0x30, 4, 0, 2, 0, 0, 0, 0x05, 0, 0, 0x11, /* fat, MoreSects|InitLocals, maxstack 4 */
        0x00, 0x2A, 0xEE, 0xEE,
        0x81, 16, 0x34, 0x12,                             /* small EH, MoreSects, 1 clause */
        2, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0,               /* finally: try 0+1, handler 1+1 */
        0x41, 28, 0, 0,                                   /* fat EH, last */
        0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x07, 0, 0, 0x01,
    };
    ilg_cil_header h;
    ck_assert_int_eq(ilg__cil_header(b, sizeof b, &h), ILG_CIL_OK);
    ck_assert(h.fat && h.size == 12 && h.max_stack == 4 && h.code_size == 2 && h.local_sig == 0x11000005);
    ck_assert(ilg__cil_more_sects(&h) && ilg__cil_init_locals(&h));
    ilg_cil_section s;
    ck_assert_int_eq(ilg__cil_section(b, sizeof b, 16, &s), ILG_CIL_OK);
    ck_assert(!s.fat && s.more && s.clauses == 1 && s.reserved == 0x1234 && s.data_size == 16);
    ilg_cil_clause c = ilg__cil_clause(b + 16, &s, 0);
    ck_assert(c.flags == 2 && c.try_offset == 0 && c.try_length == 1 && c.handler_offset == 1 &&
              c.handler_length == 1 && c.extra == 0);
    ck_assert_int_eq(ilg__cil_section(b, sizeof b, 32, &s), ILG_CIL_OK);
    ck_assert(s.fat && !s.more && s.clauses == 1 && s.reserved == 0);
    c = ilg__cil_clause(b + 32, &s, 0);
    ck_assert(c.flags == 0 && c.try_length == 1 && c.handler_offset == 1 && c.extra == 0x01000007);
    /* the writers give the same bytes back */
    uint8_t w[sizeof b] = { 0 };
    uint8_t *p = ilg__cil_put_fat(w, 0x301B, 4, 2, 0x11000005);
    ck_assert(memcmp(w, b, 12) == 0 && p == w + 12);
    p = ilg__cil_put_section(w + 16, 0x81, 16, 0x1234);
    p = ilg__cil_put_clause(p, false, &(ilg_cil_clause){ 2, 0, 1, 1, 1, 0 });
    ck_assert(memcmp(w + 16, b + 16, 16) == 0);
    p = ilg__cil_put_section(w + 32, 0x41, 28, 0);
    p = ilg__cil_put_clause(p, true, &(ilg_cil_clause){ 0, 0, 1, 1, 1, 0x01000007 });
    ck_assert(memcmp(w + 32, b + 32, 28) == 0 && p == w + sizeof w);
    ck_assert(ilg__cil_put_tiny(w, 5) == w + 1 && w[0] == 0x16);
    /* what is wrong, in the order the readers check it */
    ck_assert_int_eq(ilg__cil_header(b, 11, &h), ILG_CIL_TRUNCATED);
    ck_assert_int_eq(ilg__cil_header(b, 13, &h), ILG_CIL_CODE_TRUNCATED);
    ck_assert_int_eq(ilg__cil_header((const uint8_t[]){ 0x16, 0, 0 }, 3, &h), ILG_CIL_CODE_TRUNCATED);
    ck_assert_int_eq(ilg__cil_header((const uint8_t[]){ 0x01 }, 1, &h), ILG_CIL_BAD_FORMAT);
    b[1] = 0x20;
    ck_assert_int_eq(ilg__cil_header(b, sizeof b, &h), ILG_CIL_BAD_FAT_SIZE);
    b[1] = 0x30;
    b[11] = 0x02;
    ck_assert_int_eq(ilg__cil_header(b, sizeof b, &h), ILG_CIL_BAD_LOCALS);
    ck_assert_int_eq(ilg__cil_section(b, 19, 16, &s), ILG_CIL_TRUNCATED);
    ck_assert_int_eq(ilg__cil_section(b, 31, 16, &s), ILG_CIL_SECT_TRUNCATED);
    b[17] = 15;
    ck_assert_int_eq(ilg__cil_section(b, sizeof b, 16, &s), ILG_CIL_BAD_DATA_SIZE);
    b[16] = 0x83; /* OptILTable */
    ck_assert_int_eq(ilg__cil_section(b, sizeof b, 16, &s), ILG_CIL_BAD_KIND);
}
END_TEST

/* SHA-1 against FIPS 180-2's published digests (one block, two blocks because the
 * length does not fit after 56 bytes, empty input), and the public key token of the
 * ECMA key (00..04..00), b77a5c561934e089 in every mscorlib reference. */
static void hex_of(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

START_TEST(sha1_as_fips_180)
{
    static const struct {
        const char *text, *digest;
    } cases[] = {
        { "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
        { "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
        { "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
    };
    uint8_t d[20];
    char hex[41];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ilg__sha1(cases[i].text, strlen(cases[i].text), d);
        hex_of(d, 20, hex);
        ck_assert_str_eq(hex, cases[i].digest);
    }
    static const uint8_t ecma[16] = { [8] = 4 };
    uint8_t token[8];
    ilg__public_key_token(ecma, sizeof ecma, token);
    hex_of(token, 8, hex);
    ck_assert_str_eq(hex, "b77a5c561934e089");
}
END_TEST

static Suite *common_suite(void)
{
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("helpers");
    tcase_add_test(tc, utf8_to_utf16_as_iconv);
    tcase_add_test(tc, utf16_to_utf8_as_iconv);
    tcase_add_test(tc, maps_as_the_kernel_maps);
    tcase_add_test(tc, grow_doubles_and_keeps_contents);
    tcase_add_test(tc, cil_body_framing_by_hand);
    tcase_add_test(tc, sha1_as_fips_180);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(common_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
