/* SPDX-License-Identifier: MIT */
/*
 * What the example programs share: reading the circuit file.
 */
#ifndef QRTX_EXAMPLE_H
#define QRTX_EXAMPLE_H

#include <stdio.h>
#include <stdlib.h>

/* The whole file, NUL-terminated (malloc'd), or NULL. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	size_t n = 0, cap = 0, r;

	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			char *nb = realloc(b, cap = cap ? 2 * cap : 8192);

			if (!nb) {
				free(b);
				fclose(f);
				return NULL;
			}
			b = nb;
		}
		r = fread(b + n, 1, cap - n - 1, f);
		n += r;
	} while (r);
	fclose(f);
	b[n] = '\0';
	return b;
}

#endif
