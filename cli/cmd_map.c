/* cmd_map.c: `ilgraft map IMAGE`: the address-space layout of one mapped image: the
 * headers, each section or segment, and the graft arena reserved above the image, as
 * offsets from the base. */
#include <sys/mman.h>

#include "cli.h"
#include "ilgraft/loader.h"

static void help(void)
{
    printf("usage: ilgraft map [--json] IMAGE\n\n"
           "Shows the one reservation ilgraft maps an image into: headers and each section\n"
           "(PE) or PT_LOAD segment (ELF) at its RVA with its protection, then the graft\n"
           "arena that begins at the first page boundary at or above the image span, and\n"
           "the guard page after it. Offsets are from the base, so each is a valid RVA.\n\n"
           "  --json   one JSON object (base, image_size, arena_offset, arena_size, regions)\n"
           "  --help   this text\n");
}

static void prot_text(int prot, char out[4])
{
    out[0] = prot & PROT_READ ? 'r' : '-';
    out[1] = prot & PROT_WRITE ? 'w' : '-';
    out[2] = prot & PROT_EXEC ? 'x' : '-';
    out[3] = 0;
}

int cmd_map(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, { 0 } };
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (c == 'j')
            json = true;
        else if (c == 'h') {
            help();
            return CLI_OK;
        } else
            return cli_usage_error("map", "unknown option");
    }
    if (optind != argc - 1)
        return cli_usage_error("map", "expected one IMAGE");
    const char *path = argv[optind];

    ilg_image *img;
    ilg_image_info in;
    ilg_status st = ilg_image_open(path, NULL, &img);
    if (st != ILG_OK)
        return cli_fail(path, st);
    ilg_image_get_info(img, &in);
    const uint64_t arena_end = in.arena_offset + in.arena_size;

    int rc = CLI_OK;
    if (json) {
        json_t *regions = json_array();
        if (in.headers_size)
            json_array_append_new(regions, json_pack("{s:s, s:I, s:I, s:s}", "name", "headers",
                                                     "offset", (json_int_t)0, "size",
                                                     (json_int_t)in.headers_size, "prot", "r--"));
        for (uint32_t i = 0; i < in.region_count; i++) {
            ilg_region r;
            char prot[4];
            ilg_image_region(img, i, &r);
            prot_text(r.prot | PROT_READ, prot);
            json_array_append_new(regions, json_pack("{s:s, s:I, s:I, s:s}", "name", r.name,
                                                     "offset", (json_int_t)r.rva, "size",
                                                     (json_int_t)r.virtual_size, "prot", prot));
        }
        rc = cli_print_json(json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "path", path,
                                      "format", in.format_name, "base", (json_int_t)(uintptr_t)in.base,
                                      "preferred_base", (json_int_t)in.preferred_base,
                                      "image_size", (json_int_t)in.image_size,
                                      "arena_offset", (json_int_t)in.arena_offset,
                                      "arena_size", (json_int_t)in.arena_size,
                                      "guard_offset", (json_int_t)arena_end,
                                      "regions", regions));
    } else {
        printf("%s: %s, base %p (preferred 0x%llx)\n\n", path, in.format_name, (void *)in.base,
               (unsigned long long)in.preferred_base);
        printf("  %-12s %-12s %-12s %-4s %s\n", "offset", "end", "size", "prot", "what");
        if (in.headers_size)
            printf("  0x%010x 0x%010x 0x%010x %-4s %s\n", 0u, in.headers_size, in.headers_size,
                   "r--", "headers");
        for (uint32_t i = 0; i < in.region_count; i++) {
            ilg_region r;
            char prot[4];
            ilg_image_region(img, i, &r);
            prot_text(r.prot | PROT_READ, prot);
            printf("  0x%010llx 0x%010llx 0x%010llx %-4s %s\n", (unsigned long long)r.rva,
                   (unsigned long long)(r.rva + r.virtual_size),
                   (unsigned long long)r.virtual_size, prot, r.name);
        }
        printf("  0x%010llx 0x%010llx 0x%010llx %-4s %s\n", (unsigned long long)in.arena_offset,
               (unsigned long long)arena_end, (unsigned long long)in.arena_size, "---",
               "graft arena (reserved; committed on demand)");
        printf("  0x%010llx %-12s %-12s %-4s %s\n", (unsigned long long)arena_end, "", "1 page",
               "---", "guard");
        printf("\nimage span 0x%llx; the first new body lands at RVA 0x%llx\n",
               (unsigned long long)in.image_size, (unsigned long long)in.arena_offset);
    }
    ilg_image_close(img);
    return rc;
}
