/* cmd_map.c: `ilgraft map IMAGE`: the address-space layout of one mapped image: the
 * headers, each section or segment, and the graft arena reserved above the image, as
 * offsets from the base. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cli.h"
#include "ilgraft/arena.h"
#include "ilgraft/loader.h"

static void help(void)
{
    printf("usage: ilgraft map [--json] [--alloc COUNT[xSIZE]] IMAGE\n\n"
           "Shows the one reservation ilgraft maps an image into: headers and each section\n"
           "(PE) or PT_LOAD segment (ELF) at its RVA with its protection, then the graft\n"
           "arena that begins at the first page boundary at or above the image span, and\n"
           "the guard page after it. Offsets are from the base, so each is a valid RVA.\n\n"
           "  --json   one JSON object (base, image_size, arena_offset, arena_size, regions)\n"
           "  --alloc COUNT[xSIZE]\n"
           "           make COUNT arena allocations of SIZE bytes (default 64) and show where\n"
           "           they landed; --json adds first_alloc_offset, last_alloc_end, committed\n"
           "  --help   this text\n");
}

/* --alloc COUNT[xSIZE]: strtoull stops at the 'x', so hex counts ("0x10x8") work too. */
static bool parse_alloc(const char *s, uint64_t *count, uint64_t *size)
{
    char *end;
    if (!s || *s == '-')
        return false;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 0), z = 64;
    if (errno || end == s || n == 0)
        return false;
    if (*end == 'x') {
        if (!cli_parse_u64(end + 1, (uint64_t *)&z) || z == 0 || z > UINT32_MAX)
            return false;
    } else if (*end) {
        return false;
    }
    *count = n;
    *size = z;
    return true;
}

typedef struct alloc_run {
    uint64_t first, last_end;
    bool contiguous;          /* each allocation starts where the previous one ended,
                                 after alignment */
    uint64_t shown[20];       /* offsets of the first and last ten */
    ilg_arena_stats stats;
} alloc_run;

static bool run_allocs(ilg_image *img, uint64_t count, uint64_t size, alloc_run *ar)
{
    ilg_arena *arena;
    if (ilg_image_arena(img, &arena) != ILG_OK)
        return false;
    ar->contiguous = true;
    for (uint64_t i = 0; i < count; i++) {
        void *p;
        uint32_t rva;
        if (ilg_arena_alloc(arena, (size_t)size, &p, &rva) != ILG_OK) {
            fprintf(stderr, "ilgraft: map: arena allocation %llu of %llu (%llu bytes each) failed\n",
                    (unsigned long long)i + 1, (unsigned long long)count, (unsigned long long)size);
            return false;
        }
        memset(p, 0xCC, (size_t)size); /* the memory is really there */
        if (i == 0)
            ar->first = rva;
        else if (rva != ((ar->last_end + ILG_ARENA_DEFAULT_ALIGN - 1) & ~(uint64_t)(ILG_ARENA_DEFAULT_ALIGN - 1)))
            ar->contiguous = false;
        ar->last_end = (uint64_t)rva + size;
        if (i < 10)
            ar->shown[i] = rva;
        else if (count > 20 && i >= count - 10)
            ar->shown[10 + (i - (count - 10))] = rva;
        else if (count <= 20)
            ar->shown[i] = rva;
    }
    return ilg_arena_stats_get(arena, &ar->stats) == ILG_OK;
}

static void print_allocs(const alloc_run *ar, uint64_t count, uint64_t size)
{
    printf("\n%llu arena allocations of %llu bytes:\n", (unsigned long long)count,
           (unsigned long long)size);
    for (uint64_t i = 0; i < count && i < 20; i++) {
        uint64_t n = count <= 20 || i < 10 ? i : count - 20 + i;
        if (count > 20 && i == 10)
            printf("  ...\n");
        printf("  #%-8llu RVA 0x%010llx-0x%010llx\n", (unsigned long long)n + 1,
               (unsigned long long)ar->shown[i], (unsigned long long)(ar->shown[i] + size));
    }
    printf("first at RVA 0x%llx, last ends at 0x%llx, %s; committed 0x%llx, used 0x%llx\n",
           (unsigned long long)ar->first, (unsigned long long)ar->last_end,
           ar->contiguous ? "contiguous" : "NOT contiguous",
           (unsigned long long)ar->stats.committed, (unsigned long long)ar->stats.bytes_used);
}

static int print_map_json(const char *path, ilg_image *img, const ilg_image_info *in,
                          uint64_t alloc_count, uint64_t alloc_size, const alloc_run *ar)
{
    const uint64_t arena_end = in->arena_offset + in->arena_size;
    json_t *regions = json_array();
    if (in->headers_size)
        json_array_append_new(regions, json_pack("{s:s, s:I, s:I, s:s}", "name", "headers",
                                                 "rva", (json_int_t)0, "virtual_size",
                                                 (json_int_t)in->headers_size, "prot", "r--"));
    for (uint32_t i = 0; i < in->region_count; i++) {
        ilg_region r;
        char prot[4];
        ilg_image_region(img, i, &r);
        cli_prot_text(r.prot | PROT_READ, prot);
        json_array_append_new(regions, json_pack("{s:s, s:I, s:I, s:s}", "name", r.name,
                                                 "rva", (json_int_t)r.rva, "virtual_size",
                                                 (json_int_t)r.virtual_size, "prot", prot));
    }
    json_t *obj = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "path", path,
                            "format", in->format_name, "base", (json_int_t)(uintptr_t)in->base,
                            "preferred_base", (json_int_t)in->preferred_base,
                            "image_size", (json_int_t)in->image_size,
                            "arena_offset", (json_int_t)in->arena_offset,
                            "arena_size", (json_int_t)in->arena_size,
                            "guard_offset", (json_int_t)arena_end,
                            "regions", regions);
    if (obj && alloc_count) {
        json_object_set_new(obj, "alloc_count", cli_json_u64(alloc_count));
        json_object_set_new(obj, "alloc_size", cli_json_u64(alloc_size));
        json_object_set_new(obj, "first_alloc_offset", cli_json_u64(ar->first));
        json_object_set_new(obj, "last_alloc_end", cli_json_u64(ar->last_end));
        json_object_set_new(obj, "committed", cli_json_u64(ar->stats.committed));
        json_object_set_new(obj, "bytes_used", cli_json_u64(ar->stats.bytes_used));
        json_object_set_new(obj, "contiguous", json_boolean(ar->contiguous));
    }
    return cli_print_json(obj);
}

static void print_map_text(const char *path, ilg_image *img, const ilg_image_info *in,
                           uint64_t alloc_count, uint64_t alloc_size, const alloc_run *ar)
{
    const uint64_t arena_end = in->arena_offset + in->arena_size;
    printf("%s: %s, base %p (preferred 0x%llx)\n\n", path, in->format_name, (void *)in->base,
           (unsigned long long)in->preferred_base);
    printf("  %-12s %-12s %-12s %-4s %s\n", "offset", "end", "size", "prot", "what");
    if (in->headers_size)
        printf("  0x%010x 0x%010x 0x%010x %-4s %s\n", 0u, in->headers_size, in->headers_size,
               "r--", "headers");
    for (uint32_t i = 0; i < in->region_count; i++) {
        ilg_region r;
        char prot[4];
        ilg_image_region(img, i, &r);
        cli_prot_text(r.prot | PROT_READ, prot);
        printf("  0x%010llx 0x%010llx 0x%010llx %-4s %s\n", (unsigned long long)r.rva,
               (unsigned long long)(r.rva + r.virtual_size),
               (unsigned long long)r.virtual_size, prot, r.name);
    }
    printf("  0x%010llx 0x%010llx 0x%010llx %-4s %s\n", (unsigned long long)in->arena_offset,
           (unsigned long long)arena_end, (unsigned long long)in->arena_size, "---",
           "graft arena (reserved; committed on demand)");
    printf("  0x%010llx %-12s %-12s %-4s %s\n", (unsigned long long)arena_end, "", "1 page",
           "---", "guard");
    printf("\nimage span 0x%llx; the first new body lands at RVA 0x%llx\n",
           (unsigned long long)in->image_size, (unsigned long long)in->arena_offset);
    if (alloc_count)
        print_allocs(ar, alloc_count, alloc_size);
}

int cmd_map(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' }, { "alloc", required_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' }, { 0 } };
    bool json = false;
    uint64_t alloc_count = 0, alloc_size = 64;
    int c;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (c == 'j')
            json = true;
        else if (c == 'a') {
            if (!parse_alloc(optarg, &alloc_count, &alloc_size))
                return cli_usage_error("map", "--alloc wants COUNT[xSIZE] (positive), got '%s'", optarg);
        } else if (c == 'h') {
            help();
            return CLI_OK;
        } else
            return cli_usage_error("map", "unknown option");
    }
    if (optind != argc - 1)
        return cli_usage_error("map", "expected one IMAGE");
    const char *path = argv[optind];
    cli_json_errors(json);

    ilg_image *img;
    ilg_image_info in;
    ilg_status st = ilg_image_open(path, NULL, &img);
    if (st != ILG_OK)
        return cli_fail(path, st);
    ilg_image_get_info(img, &in);

    alloc_run ar = { 0 };
    if (alloc_count && !run_allocs(img, alloc_count, alloc_size, &ar)) {
        ilg_image_close(img);
        return cli_fail(path, ilg_last_diag()->status);
    }

    int rc = CLI_OK;
    if (json)
        rc = print_map_json(path, img, &in, alloc_count, alloc_size, &ar);
    else
        print_map_text(path, img, &in, alloc_count, alloc_size, &ar);
    ilg_image_close(img);
    return rc;
}
