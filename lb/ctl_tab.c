/*
 * ctl_tab.c - aligned text tables for lbctl's human output.  Cells are
 * copied into one growing array; widths are computed when printing, so
 * callers add rows in a single pass over the shared table.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmd.h"

void
ctl_tab_init(struct ctl_tab *tab, const char *spec)
{
	char	 word[CTL_TAB_CELL];
	size_t	 n;

	memset(tab, 0, sizeof(*tab));
	ctl_tab_row(tab);
	while (*spec != '\0' && tab->ncols < CTL_TAB_COLS) {
		while (*spec == ' ')
			spec++;
		n = strcspn(spec, " ");
		if (n == 0)
			break;
		if (n >= sizeof(word))
			n = sizeof(word) - 1;
		memcpy(word, spec, n);
		word[n] = '\0';
		spec += n;
		if (word[n - 1] == '>') {
			word[n - 1] = '\0';
			tab->right[tab->ncols] = true;
		}
		tab->ncols++;
		ctl_tab_cell(tab, tab->ncols - 1, "%s", word);
	}
}

/*
 * Appends an empty row.  The cell array holds CTL_TAB_COLS per row
 * whatever ncols is, so the header can be filled while ncols grows.
 */
void
ctl_tab_row(struct ctl_tab *tab)
{
	size_t	 ncap;
	void	*p;

	if (tab->failed)
		return;
	if (tab->nrows == tab->cap) {
		ncap = tab->cap == 0 ? 16 : tab->cap * 2;
		p = realloc(tab->cells, ncap * CTL_TAB_COLS * CTL_TAB_CELL);
		if (p == NULL) {
			tab->failed = true;
			return;
		}
		tab->cells = p;
		tab->cap = ncap;
	}
	memset(tab->cells[tab->nrows * CTL_TAB_COLS], 0,
	    CTL_TAB_COLS * CTL_TAB_CELL);
	tab->nrows++;
}

/* Fills column `col` of the last row; long values are cut to fit. */
void
ctl_tab_cell(struct ctl_tab *tab, int col, const char *fmt, ...)
{
	va_list	 ap;

	if (tab->failed || tab->nrows == 0 || col < 0 || col >= CTL_TAB_COLS)
		return;
	va_start(ap, fmt);
	vsnprintf(tab->cells[(tab->nrows - 1) * CTL_TAB_COLS + col],
	    CTL_TAB_CELL, fmt, ap);
	va_end(ap);
}

void
ctl_tab_print(struct ctl_tab *tab, struct ctl_buf *out)
{
	size_t	 w[CTL_TAB_COLS] = { 0 }, r, n;
	int	 c;
	const char *cell;

	if (tab->failed) {
		ctl_buf_printf(out, "(out of memory)\n");
		goto done;
	}
	for (r = 0; r < tab->nrows; r++)
		for (c = 0; c < tab->ncols; c++) {
			n = strlen(tab->cells[r * CTL_TAB_COLS + c]);
			if (n > w[c])
				w[c] = n;
		}
	for (r = 0; r < tab->nrows; r++) {
		for (c = 0; c < tab->ncols; c++) {
			cell = tab->cells[r * CTL_TAB_COLS + c];
			if (c == tab->ncols - 1 && !tab->right[c])
				ctl_buf_printf(out, "%s", cell);
			else
				ctl_buf_printf(out, tab->right[c] ? "%*s" :
				    "%-*s", (int)w[c], cell);
			if (c < tab->ncols - 1)
				ctl_buf_append(out, "  ", 2);
		}
		ctl_buf_append(out, "\n", 1);
	}
done:
	free(tab->cells);
	memset(tab, 0, sizeof(*tab));
}

void
ctl_list_end(bool json, struct json_w *w, struct ctl_tab *tab,
    struct ctl_buf *out)
{
	if (json) {
		json_arr_end(w);
		ctl_buf_append(out, "\n", 1);
	} else
		ctl_tab_print(tab, out);
}
