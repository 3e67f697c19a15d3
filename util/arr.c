/* SPDX-License-Identifier: MIT */
/* arr.c - growing arrays by doubling (see arr.h). */
#include "arr.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int arr_grow(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) {
        return 0;
    }
    size_t nc = *cap ? *cap * 2 : 16;
    while (nc <= n) {
        nc *= 2;
    }
    if (size && nc > SIZE_MAX / size) {
        return -ENOMEM;
    }
    void *p = realloc(*arr, nc * size);
    if (!p) {
        return -ENOMEM;
    }
    *arr = p;
    *cap = nc;
    return 0;
}
