/* test_loader.c: the loader against independent truth: binutils (objdump -p/-h for PE,
 * readelf -lW for ELF), the running process's own dynamic loader (dlopen + dlsym for
 * symbol offsets), /proc/self/maps for the protections, and the file bytes. */
#include <check.h>
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ilgraft/loader.h"
#include "unit/fixture_util.h"

static char calc[4096];
static ilg_image *img;
static const char *const mscorlib = "/usr/lib/mono/4.5/mscorlib.dll";

static void setup_calc(void)
{
    fx_path(calc, sizeof calc, "calc.exe");
    ck_assert_int_eq(ilg_image_open(calc, NULL, &img), ILG_OK);
}

static void teardown_image(void)
{
    ilg_image_close(img);
    img = NULL;
}

/* A "Key<TAB>value" line of `objdump -p`, parsed as hex. */
static unsigned long long objdump_field(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    ck_assert_msg(p != NULL, "objdump -p has no %s", key);
    p += strlen(key);
    return strtoull(p, NULL, 16);
}

static void check_pe_against_objdump(const char *path, ilg_image *im)
{
    ilg_image_info in;
    fx_result p, h;
    const char *argp[] = { "objdump", "-p", path, NULL };
    const char *argh[] = { "objdump", "-h", path, NULL };
    ck_assert(ilg_image_get_info(im, &in) == ILG_OK);
    ck_assert(fx_run(argp, &p) && p.exited && p.status == 0);
    ck_assert(fx_run(argh, &h) && h.exited && h.status == 0);

    unsigned long long image_base = objdump_field(p.out, "ImageBase\t\t");
    ck_assert_uint_eq(in.preferred_base, image_base);
    ck_assert_uint_eq(in.image_size, objdump_field(p.out, "SizeOfImage\t\t"));
    ck_assert_uint_eq(in.section_alignment, objdump_field(p.out, "SectionAlignment\t"));
    ck_assert_uint_eq(in.headers_size, objdump_field(p.out, "SizeOfHeaders\t\t"));

    /* Each objdump -h row: Idx Name Size VMA LMA FileOff Algn. */
    uint32_t seen = 0;
    for (char *line = strtok(h.out, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned idx;
        char name[64];
        unsigned long long size, vma, lma, off;
        if (sscanf(line, " %u %63s %llx %llx %llx %llx", &idx, name, &size, &vma, &lma, &off) != 6)
            continue;
        ilg_region r;
        ck_assert_int_eq(ilg_image_region(im, idx, &r), ILG_OK);
        ck_assert_str_eq(r.name, name);
        ck_assert_uint_eq(r.rva, vma - image_base);
        ck_assert_uint_eq(r.file_offset, off);
        seen++;
    }
    ck_assert_uint_eq(seen, in.region_count);
    fx_result_free(&p);
    fx_result_free(&h);
}

START_TEST(pe_headers_match_objdump)
{
    ilg_image_info in;
    ck_assert_int_eq(ilg_image_get_info(img, &in), ILG_OK);
    ck_assert_int_eq(in.format, ILG_FORMAT_PE32);
    ck_assert_str_eq(in.format_name, "PE32");
    ck_assert_uint_eq(in.machine, 0x14c);
    ck_assert(in.has_cli);
    check_pe_against_objdump(calc, img);
}
END_TEST

START_TEST(pe_corpus_samples_match_objdump)
{
    /* PE32 from Mono, PE32+ ReadyToRun from the .NET shared framework. */
    char r2r[4096] = "";
    FILE *ls = popen("ls /usr/share/dotnet/shared/Microsoft.NETCore.App/*/System.Private.CoreLib.dll 2>/dev/null | head -1", "r");
    if (ls) {
        if (fgets(r2r, sizeof r2r, ls))
            r2r[strcspn(r2r, "\n")] = 0;
        pclose(ls);
    }
    const char *paths[] = { mscorlib, r2r };
    for (size_t i = 0; i < 2; i++) {
        ilg_image *im;
        /* the .NET SDK (its shared framework) is not a Debian package */
        if (!fx_require(paths[i][0], "pe_corpus_samples_match_objdump's ReadyToRun case: no "
                                     "System.Private.CoreLib.dll in the .NET shared framework "
                                     "in /usr/share/dotnet (install the .NET 10 SDK)"))
            continue;
        ck_assert_int_eq(ilg_image_open(paths[i], NULL, &im), ILG_OK);
        check_pe_against_objdump(paths[i], im);
        if (i == 1) {
            ilg_image_info in;
            ilg_image_get_info(im, &in);
            ck_assert_int_eq(in.format, ILG_FORMAT_PE32PLUS);
            ck_assert_msg(strstr(in.machine_name, "ReadyToRun") != NULL, "machine %s",
                          in.machine_name);
        }
        ilg_image_close(im);
    }
}
END_TEST

static void check_file_bytes(ilg_image *im)
{
    ilg_image_info in;
    const uint8_t *file;
    size_t size;
    ilg_image_get_info(im, &in);
    ck_assert_int_eq(ilg_image_file_bytes(im, &file, &size), ILG_OK);
    ck_assert_int_eq(memcmp(in.base, file, in.headers_size), 0);
    for (uint32_t i = 0; i < in.region_count; i++) {
        ilg_region r;
        const uint8_t *p;
        ilg_image_region(im, i, &r);
        ck_assert_int_eq(ilg_image_rva_to_ptr(im, r.rva, r.virtual_size, &p), ILG_OK);
        ck_assert_ptr_eq(p, in.base + r.rva);
        ck_assert_int_eq(memcmp(p, file + r.file_offset, r.file_size), 0);
        for (uint64_t k = r.file_size; k < r.virtual_size; k++)
            ck_assert_uint_eq(p[k], 0);
    }
}

START_TEST(mapped_sections_hold_file_bytes_and_zero_tails)
{
    check_file_bytes(img);
}
END_TEST

START_TEST(rva_offset_round_trip_and_bounds)
{
    ilg_image_info in;
    ilg_image_get_info(img, &in);
    for (uint32_t i = 0; i < in.region_count; i++) {
        ilg_region r;
        uint64_t off, rva;
        ilg_image_region(img, i, &r);
        for (uint64_t d = 0; d < r.file_size; d += 97) {
            ck_assert_int_eq(ilg_image_rva_to_offset(img, r.rva + d, &off), ILG_OK);
            ck_assert_uint_eq(off, r.file_offset + d);
            ck_assert_int_eq(ilg_image_offset_to_rva(img, off, &rva), ILG_OK);
            ck_assert_uint_eq(rva, r.rva + d);
        }
        /* A range that starts inside the section but ends past it is refused. */
        const uint8_t *p = NULL;
        ck_assert_int_eq(ilg_image_rva_to_ptr(img, r.rva + r.virtual_size - 1, 2, &p), ILG_E_RANGE);
        ck_assert_ptr_null(p);
        ck_assert_int_eq(ilg_last_diag()->status, ILG_E_RANGE);
    }
    const uint8_t *p;
    ck_assert_int_eq(ilg_image_rva_to_ptr(img, in.image_size, 1, &p), ILG_E_RANGE);
    ck_assert_int_eq(ilg_image_rva_to_ptr(img, UINT64_MAX - 2, 8, &p), ILG_E_RANGE);
}
END_TEST

static void check_protections(ilg_image *im)
{
    ilg_image_info in;
    char perms[5];
    ilg_image_get_info(im, &in);
    fx_maps_prot((uintptr_t)(in.base), perms, NULL, NULL);
    ck_assert_str_eq(perms, "r--p");
    for (uint32_t i = 0; i < in.region_count; i++) {
        ilg_region r;
        ilg_image_region(im, i, &r);
        fx_maps_prot((uintptr_t)(in.base + r.rva), perms, NULL, NULL);
        ck_assert_int_eq(perms[0], 'r');
        ck_assert_int_eq(perms[1], r.prot & PROT_WRITE ? 'w' : '-');
        ck_assert_int_eq(perms[2], r.prot & PROT_EXEC ? 'x' : '-');
    }
    /* The arena and the guard are reserved but inaccessible until used. */
    fx_maps_prot((uintptr_t)(in.base + in.arena_offset + in.arena_size), perms, NULL, NULL);
    ck_assert_str_eq(perms, "---p");
}

START_TEST(protections_follow_section_flags)
{
    check_protections(img);
}
END_TEST

/* An image with a file-backed region of 2 MiB or more is placed so that its largest
 * region starts on a 2 MiB boundary (the loader populates it as transparent huge
 * pages); it still holds the file's bytes with the sections' protections. */
START_TEST(largest_region_starts_on_a_huge_page)
{
    if (!fx_require(access(mscorlib, R_OK) == 0, "Mono's %s not found", mscorlib))
        return;
    ilg_image *m;
    ilg_image_info in;
    ck_assert_int_eq(ilg_image_open(mscorlib, NULL, &m), ILG_OK);
    ilg_image_get_info(m, &in);
    ilg_region big = { 0 };
    for (uint32_t i = 0; i < in.region_count; i++) {
        ilg_region r;
        ck_assert_int_eq(ilg_image_region(m, i, &r), ILG_OK);
        if (r.file_size > big.file_size)
            big = r;
    }
    ck_assert_uint_ge(big.file_size, 2u << 20);
    ck_assert_msg(((uintptr_t)in.base + big.rva) % (2u << 20) == 0, "%s at %p", big.name,
                  (void *)(in.base + big.rva));
    check_file_bytes(m);
    check_protections(m);
    ilg_image_close(m);
}
END_TEST

START_TEST(arena_reserved_right_above_the_image)
{
    ilg_image_info in;
    long page = sysconf(_SC_PAGESIZE);
    ilg_image_get_info(img, &in);
    ck_assert_uint_eq(in.arena_offset, (in.image_size + page - 1) / page * page);
    ck_assert_uint_eq(in.arena_size, ILG_ARENA_DEFAULT_SIZE);

    ilg_image *small;
    ilg_image_options o = { .arena_size = 5000 };
    ck_assert_int_eq(ilg_image_open(calc, &o, &small), ILG_OK);
    ilg_image_get_info(small, &in);
    ck_assert_uint_eq(in.arena_size, 8192); /* rounded up to pages */
    ilg_image_close(small);

    o.arena_size = (uint64_t)1 << 40; /* clamped below the RVA limit */
    ck_assert_int_eq(ilg_image_open(calc, &o, &small), ILG_OK);
    ilg_image_get_info(small, &in);
    ck_assert_uint_eq(in.arena_offset + in.arena_size, (uint64_t)ILG_METHOD_MAX_RVA + 1);
    ilg_image_close(small);
}
END_TEST

START_TEST(open_memory_matches_open_file)
{
    size_t len;
    char *data = fx_read_file(calc, &len);
    ilg_image *m;
    ilg_image_info a, b;
    ck_assert_ptr_nonnull(data);
    ck_assert_int_eq(ilg_image_open_memory(data, len, "calc", NULL, &m), ILG_OK);
    free(data);
    ilg_image_get_info(img, &a);
    ilg_image_get_info(m, &b);
    ck_assert_uint_eq(a.image_size, b.image_size);
    ck_assert_uint_eq(a.region_count, b.region_count);
    ck_assert_int_eq(memcmp(a.base, b.base, a.image_size), 0);
    ilg_image_close(m);
}
END_TEST

START_TEST(open_errors_are_specific)
{
    ilg_image *m = (ilg_image *)0x1;
    ck_assert_int_eq(ilg_image_open("/nonexistent/x.dll", NULL, &m), ILG_E_IO);
    ck_assert_ptr_eq(m, (ilg_image *)0x1); /* untouched on failure */
    ck_assert_int_eq(ilg_image_open_memory("", 0, "empty", NULL, &m), ILG_E_FORMAT);
    ck_assert_int_eq(ilg_image_open_memory("#!/bin/sh\n", 10, "script", NULL, &m), ILG_E_FORMAT);
    ck_assert_msg(strstr(ilg_last_diag()->message, "0x622f2123") != NULL, "%s",
                  ilg_last_diag()->message);
    ck_assert_int_eq(ilg_image_open_memory("MZ", 2, "mz", NULL, &m), ILG_E_PE_TRUNCATED_DOS);
    ck_assert_int_eq(ilg_image_open(NULL, NULL, &m), ILG_E_INVALID_ARG);
    ck_assert_str_eq(ilg_status_name(ILG_E_PE_BAD_SIGNATURE), "E_PE_BAD_SIGNATURE");
    ck_assert_str_eq(ilg_status_name((ilg_status)9999), "UNKNOWN");
}
END_TEST

/* E_MAP for real: in a child whose address-space limit cannot hold the reservation
 * (image span + 64 MiB arena + guard). ASan's shadow needs terabytes of address space,
 * so sanitizer builds leave this one out. */
START_TEST(reservation_failure_is_e_map)
{
#if defined(__SANITIZE_ADDRESS__)
    printf("SKIP: reservation_failure_is_e_map needs RLIMIT_AS, which ASan cannot run under\n");
#else
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* Room for the file mapping, not for the 64 MiB arena reservation. */
        long vm_kb = 0;
        char line[256];
        FILE *f = fopen("/proc/self/status", "r");
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "VmSize: %ld kB", &vm_kb) == 1)
                break;
        if (f)
            fclose(f);
        rlim_t lim = ((rlim_t)vm_kb << 10) + (16u << 20);
        struct rlimit rl = { lim, lim };
        ilg_image *m = NULL;
        if (setrlimit(RLIMIT_AS, &rl) != 0)
            _exit(10);
        ilg_status st = ilg_image_open(calc, NULL, &m);
        _exit(st == ILG_E_MAP && m == NULL && strstr(ilg_last_diag()->message, "cannot reserve") ? 0 : 11);
    }
    int ws;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFEXITED(ws));
    ck_assert_int_eq(WEXITSTATUS(ws), 0);
#endif
}
END_TEST

static long resident_kb(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* A 2 KiB file that declares a 1.75 GiB image must not make ilgraft commit the span. */
START_TEST(huge_declared_image_commits_only_file_backed_pages)
{
    size_t len;
    uint8_t *data = (uint8_t *)fx_read_file(calc, &len);
    ck_assert_ptr_nonnull(data);
    uint32_t lfanew = data[0x3C] | data[0x3D] << 8;
    uint8_t *size_of_image = data + lfanew + 4 + 20 + 56;
    size_of_image[0] = 0; size_of_image[1] = 0; size_of_image[2] = 0; size_of_image[3] = 0x70;
    long before = resident_kb();
    ilg_image *m;
    ilg_image_info in;
    ck_assert_int_eq(ilg_image_open_memory(data, len, "huge", NULL, &m), ILG_OK);
    ilg_image_get_info(m, &in);
    ck_assert_uint_eq(in.image_size, 0x70000000);
    long grown = resident_kb() - before;
    ck_assert_msg(grown < 8 * 1024, "opening grew the resident set by %ld KiB", grown);
    ilg_image_close(m);
    free(data);
}
END_TEST

/* Segments from `readelf -lW` and every symbol from `readelf -sW` (.symtab, then .dynsym
 * as ilgraft orders them) against the loader. */
static void check_elf_against_readelf(const char *path)
{
    ilg_image *e;
    ilg_image_info in;
    ck_assert_int_eq(ilg_image_open(path, NULL, &e), ILG_OK);
    ilg_image_get_info(e, &in);

    const char *lw[] = { "readelf", "-lW", path, NULL };
    fx_result r;
    ck_assert(fx_run(lw, &r) && r.exited && r.status == 0);
    uint32_t n = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned long long off, va, pa, fsz, msz;
        if (sscanf(line, " LOAD 0x%llx 0x%llx 0x%llx 0x%llx 0x%llx", &off, &va, &pa, &fsz, &msz) != 5)
            continue;
        ilg_region g;
        ck_assert_int_eq(ilg_image_region(e, n, &g), ILG_OK);
        ck_assert_uint_eq(g.rva, va - in.preferred_base);
        ck_assert_uint_eq(g.file_offset, off);
        ck_assert_uint_eq(g.file_size, fsz);
        ck_assert_uint_eq(g.virtual_size, msz);
        n++;
    }
    ck_assert_uint_eq(n, in.region_count);
    fx_result_free(&r);

    /* readelf prints .dynsym before .symtab; ilgraft keeps .symtab first. */
    const char *sw[] = { "readelf", "-sW", path, NULL };
    ck_assert(fx_run(sw, &r) && r.exited && r.status == 0);
    uint32_t dyn = 0, stat = 0, nsym = ilg_image_symbol_count(e), ndyn = 0;
    for (uint32_t i = 0; i < nsym; i++) {
        ilg_symbol s;
        ilg_image_symbol(e, i, &s);
        ndyn += s.dynamic;
    }
    bool in_dyn = false;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        if (strstr(line, "Symbol table '.dynsym'")) {
            in_dyn = true;
            continue;
        }
        if (strstr(line, "Symbol table '.symtab'")) {
            in_dyn = false;
            continue;
        }
        unsigned num;
        unsigned long long value, size;
        char name[512] = "";
        if (sscanf(line, " %u: %llx %llu %*s %*s %*s %*s %511s", &num, &value, &size, name) < 3)
            continue;
        uint32_t index = in_dyn ? nsym - ndyn + dyn++ : stat++;
        ilg_symbol s;
        ck_assert_int_eq(ilg_image_symbol(e, index, &s), ILG_OK);
        ck_assert_uint_eq(s.dynamic, in_dyn);
        ck_assert_uint_eq(s.value, value);
        ck_assert_uint_eq(s.size, size);
        /* readelf appends @VERSION to versioned .dynsym names; .symtab names may
         * contain '@' themselves. */
        char *at = in_dyn ? strchr(name, '@') : NULL;
        if (at)
            *at = 0;
        ck_assert_msg(strcmp(s.name, name) == 0, "%s symbol %u: ilgraft '%s', readelf '%s'", path,
                      num, s.name, name);
    }
    ck_assert_uint_eq(dyn, ndyn);
    ck_assert_uint_eq(stat + dyn, nsym);
    fx_result_free(&r);
    ilg_image_close(e);
}

START_TEST(elf_fixtures_match_readelf)
{
    static const char *const names[] = { "libilgfix.so", "ilgfix_exe" };
    for (size_t i = 0; i < 2; i++) {
        char path[4096];
        ilg_image *e;
        ilg_image_info in;
        fx_path(path, sizeof path, names[i]);
        check_elf_against_readelf(path);
        ck_assert_int_eq(ilg_image_open(path, NULL, &e), ILG_OK);
        ilg_image_get_info(e, &in);
        ck_assert_uint_eq(in.characteristics, i == 0 ? 3 : 2); /* ET_DYN, ET_EXEC */
        ck_assert_uint_eq(in.preferred_base, i == 0 ? 0 : 0x400000);
        ilg_image_close(e);
    }
}
END_TEST

/* ELF: the system's libz, checked against readelf and against the dynamic loader that
 * actually mapped it into this process. */
START_TEST(elf_segments_and_symbols_match_the_system_loader)
{
    void *h = dlopen("libz.so.1", RTLD_NOW);
    ck_assert_ptr_nonnull(h);
    void *sym = dlsym(h, "inflate");
    Dl_info di;
    ck_assert(sym && dladdr(sym, &di));
    char path[4096];
    ck_assert_ptr_nonnull(realpath(di.dli_fname, path));

    ilg_image *e;
    ilg_image_info in;
    ck_assert_int_eq(ilg_image_open(path, NULL, &e), ILG_OK);
    ilg_image_get_info(e, &in);
    ck_assert_int_eq(in.format, ILG_FORMAT_ELF64);
    ck_assert_uint_eq(in.machine, 62);
    ck_assert_uint_eq(in.characteristics, 3); /* ET_DYN */

    ilg_symbol s;
    ck_assert_int_eq(ilg_image_find_symbol(e, "inflate", &s), ILG_OK);
    ck_assert_uint_eq(s.rva, (uintptr_t)sym - (uintptr_t)di.dli_fbase);
    ck_assert_int_eq(memcmp(in.base + s.rva, sym, 16), 0); /* same code bytes */
    ck_assert_int_eq(ilg_image_find_symbol(e, "no_such_symbol_here", &s), ILG_E_NOT_FOUND);

    ilg_image_close(e);
    check_elf_against_readelf(path);
    dlclose(h);
}
END_TEST

static Suite *loader_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *pe = tcase_create("pe");
    tcase_add_checked_fixture(pe, setup_calc, teardown_image);
    tcase_add_test(pe, pe_headers_match_objdump);
    tcase_add_test(pe, mapped_sections_hold_file_bytes_and_zero_tails);
    tcase_add_test(pe, rva_offset_round_trip_and_bounds);
    tcase_add_test(pe, protections_follow_section_flags);
    tcase_add_test(pe, arena_reserved_right_above_the_image);
    tcase_add_test(pe, open_memory_matches_open_file);
    tcase_add_test(pe, huge_declared_image_commits_only_file_backed_pages);
    tcase_add_test(pe, reservation_failure_is_e_map);
    suite_add_tcase(s, pe);

    TCase *other = tcase_create("other");
    tcase_set_timeout(other, 120);
    tcase_add_test(other, pe_corpus_samples_match_objdump);
    tcase_add_test(other, largest_region_starts_on_a_huge_page);
    tcase_add_test(other, open_errors_are_specific);
    tcase_add_test(other, elf_segments_and_symbols_match_the_system_loader);
    tcase_add_test(other, elf_fixtures_match_readelf);
    suite_add_tcase(s, other);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(loader_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
