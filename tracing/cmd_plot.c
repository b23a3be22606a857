// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_plot.c - `umsampler plot FILE -o OUT.png [NAME...] [--title T] [--size WxH]`: value over
 * time of each numeric region of a recording, drawn by gnuplot.
 *
 * Owns: the plot subcommand: collects the samples (decode.c) of the regions asked for (all
 * numeric ones by default; str/hex regions are skipped with a note, partial scalars "?" are
 * left out), writes one data file per region and a gnuplot script into a private temporary
 * directory, runs gnuplot (pngcairo, 1200 px wide; one panel per region, up to 16, in two
 * columns above 6, else one panel with a colour per region), and removes the temporary
 * files.  Time axis: seconds from the first plotted sample.  $UMSAMPLER_GNUPLOT overrides
 * the gnuplot binary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "decode.h"
#include "grow.h"

#define PLOT_MAX_PANELS	16	/* more regions: one panel, a colour each */

struct plot_series {
	u32 id;
	u8 vtype;
	bool skip;		/* not plotted (type, or not asked for) */
	char name[32];
	u64 *t;
	double *v;
	size_t n, cap;
};

struct plot_ctx {
	struct plot_series *s;
	size_t n, cap;
	char **names;		/* asked for (NULL: all) */
	int nnames;
	bool *name_seen;
	u64 t0;
	bool have_t0;
	int err;
};

static const char plot_usage[] =
"usage: umsampler plot FILE -o OUT.png [NAME...] [--title T] [--size WxH]\n"
"  FILE: trace.dat or perf.data; NAME: regions to plot (default: every numeric\n"
"  region); one panel per region, time in seconds from the first sample\n";

CLI_COMMAND(plot, "o:t:s:h", "plot ...               plot a recording",
	CLI_ARG("output", 'o'), CLI_ARG("title", 't'), CLI_ARG("size", 's'));

static struct plot_series *plot_series(struct plot_ctx *p, const struct ums_sample *smp)
{
	struct plot_series *s;
	size_t i;
	int k;

	for (i = 0; i < p->n; i++)
		if (p->s[i].id == smp->id)
			return &p->s[i];
	s = ums_grow(p->s, p->n, &p->cap, sizeof(*s), 8);
	if (!s)
		return NULL;
	p->s = s;
	s = &p->s[p->n++];
	memset(s, 0, sizeof(*s));
	s->id = smp->id;
	s->vtype = smp->vtype;
	if (smp->name[0])
		snprintf(s->name, sizeof(s->name), "%s", smp->name);
	else
		snprintf(s->name, sizeof(s->name), "id %" PRIu32, smp->id);
	if (p->names) {
		s->skip = true;
		for (k = 0; k < p->nnames; k++)
			if (!strcmp(p->names[k], s->name)) {
				s->skip = false;
				p->name_seen[k] = true;
			}
	}
	if (!s->skip && !ums_vt_numeric(s->vtype)) {
		cli_cmd_err(&cli_plot, "skipping %s region '%s' (not numeric)",
			ums_vtype_name(s->vtype), s->name);
		s->skip = true;
	}
	return s;
}

static int plot_sample(const struct ums_sample *smp, void *arg)
{
	struct plot_ctx *p = arg;
	struct plot_series *s = plot_series(p, smp);
	char *end;
	double v;

	if (!s)
		return -ENOMEM;
	if (s->skip || !strcmp(smp->value, "?"))
		return 0;
	if (!strcmp(smp->value, "nan") || !strcmp(smp->value, "inf") ||
	    !strcmp(smp->value, "-inf"))
		return 0;	/* gnuplot would drop or clip them anyway */
	v = strtod(smp->value, &end);
	if (*end)
		return 0;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 256;
		u64 *nt = realloc(s->t, ncap * sizeof(*nt));
		double *nv;

		if (!nt)
			return -ENOMEM;
		s->t = nt;
		nv = realloc(s->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = ncap;
	}
	if (!p->have_t0 || smp->time_ns < p->t0) {
		p->t0 = smp->time_ns;
		p->have_t0 = true;
	}
	s->t[s->n] = smp->time_ns;
	s->v[s->n++] = v;
	return 0;
}

/* A gnuplot single-quoted string ('' for '). */
static void plot_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

static int plot_write_data(const char *path, const struct plot_series *s, u64 t0)
{
	FILE *f = fopen(path, "w");
	size_t i;
	int ret = 0;

	if (!f) {
		perror(path);
		return -1;
	}
	for (i = 0; i < s->n; i++)
		fprintf(f, "%.9f %.17g\n", (double)(s->t[i] - t0) / 1e9, s->v[i]);
	if (fflush(f) || ferror(f))
		ret = -1;
	if (fclose(f))
		ret = -1;
	if (ret)
		perror(path);
	return ret;
}

static int plot_run(const char *script, const char *errlog)
{
	const char *gp = getenv("UMSAMPLER_GNUPLOT");
	int status, fd;
	pid_t pid;

	if (!gp || !*gp)
		gp = "gnuplot";
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("umsampler plot: fork");
		return -1;
	}
	if (!pid) {
		fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0 && dup2(fd, STDERR_FILENO) < 0)
			_exit(127);
		execlp(gp, gp, script, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	cli_cmd_err(&cli_plot, "%s failed (status 0x%x)%s", gp, status,
		WIFEXITED(status) && WEXITSTATUS(status) == 127 ? " - is gnuplot installed?" : "");
	return -1;
}

static void plot_show_file(const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (fwrite(buf, 1, n, stderr) != n)
			break;
	fclose(f);
}

static int plot_draw(struct plot_ctx *p, const char *out, const char *title, int w, int h,
		     const char *dir)
{
	char script[4200], data[4200], errlog[4200];
	size_t i, np = 0, k, cols, rows;
	double tmax = 0;
	bool panels;
	FILE *f;
	int ret = 0;

	for (i = 0; i < p->n; i++) {
		struct plot_series *s = &p->s[i];

		if (s->skip || !s->n)
			continue;
		np++;
		if ((double)(s->t[s->n - 1] - p->t0) / 1e9 > tmax)
			tmax = (double)(s->t[s->n - 1] - p->t0) / 1e9;
		snprintf(data, sizeof(data), "%s/r%zu.dat", dir, i);
		if (plot_write_data(data, s, p->t0))
			return -1;
	}
	if (!np) {
		cli_cmd_err(&cli_plot, "no numeric samples to plot");
		return -1;
	}
	panels = np <= PLOT_MAX_PANELS;
	cols = np > 6 ? 2 : 1;
	rows = (np + cols - 1) / cols;
	if (!h)
		h = panels ? (int)(rows > 2 ? rows * 260 + 80 : 600) : 800;
	snprintf(script, sizeof(script), "%s/plot.gp", dir);
	snprintf(errlog, sizeof(errlog), "%s/gnuplot.err", dir);
	f = fopen(script, "w");
	if (!f) {
		perror(script);
		return -1;
	}
	fprintf(f, "set terminal pngcairo size %d,%d noenhanced font 'sans,10'\nset output ", w,
		h);
	plot_quote(f, out);
	fprintf(f, "\nset grid\nset key top left box opaque\nset xrange [0:%.9f]\n",
		tmax > 0 ? tmax : 1.0);
	fprintf(f, "set ylabel 'value'\nset format y '%%.10g'\n");
	if (panels) {
		fprintf(f, "set multiplot layout %zu,%zu columnsfirst title ", rows, cols);
		plot_quote(f, title);
		fputc('\n', f);
	} else {
		fprintf(f, "set title ");
		plot_quote(f, title);
		fprintf(f, "\nset xlabel 'time [s] since the first sample'\nplot ");
	}
	for (i = 0, k = 0; i < p->n; i++) {
		struct plot_series *s = &p->s[i];
		char label[64];

		if (s->skip || !s->n)
			continue;
		snprintf(label, sizeof(label), "%s (%s)", s->name, ums_vtype_name(s->vtype));
		snprintf(data, sizeof(data), "%s/r%zu.dat", dir, i);
		if (panels) {
			fprintf(f, "set xlabel %s\n", (k + 1) % rows == 0 || k == np - 1 ?
				"'time [s] since the first sample'" : "''");
			fprintf(f, "plot ");
		} else if (k) {
			fprintf(f, ", \\\n     ");
		}
		plot_quote(f, data);
		fprintf(f, " using 1:2 with %s lw 2 lc %zu title ", s->n <= 200 ? "steps" : "lines",
			k + 1);
		plot_quote(f, label);
		/* Region names contain '_': no enhanced-text subscripts. */
		fprintf(f, " noenhanced");
		if (s->n <= 200) {
			fprintf(f, ", ");
			plot_quote(f, data);
			fprintf(f, " using 1:2 with points pt 7 ps 0.6 lc %zu notitle", k + 1);
		}
		if (panels)
			fputc('\n', f);
		k++;
	}
	fprintf(f, panels ? "unset multiplot\n" : "\n");
	if (fflush(f) || ferror(f))
		ret = -1;
	if (fclose(f) || ret) {
		perror(script);
		return -1;
	}
	ret = plot_run(script, errlog);
	if (ret)
		plot_show_file(errlog);
	return ret;
}

static void plot_cleanup(const char *dir, const struct plot_ctx *p)
{
	char path[4200];
	size_t i;

	for (i = 0; i < p->n; i++) {
		snprintf(path, sizeof(path), "%s/r%zu.dat", dir, i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/plot.gp", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/gnuplot.err", dir);
	unlink(path);
	rmdir(dir);
}

static int cmd_plot(int argc, char **argv)
{
	const char *out = NULL, *title = NULL, *in, *tmp;
	char dir[4096], deftitle[4200];
	struct plot_ctx p;
	int c, k, w = 1200, h = 0, ret;
	size_t i;

	while ((c = cli_getopt(&cli_plot, argc, argv)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 't':
			title = optarg;
			break;
		case 's':
			if (sscanf(optarg, "%dx%d", &w, &h) != 2 || w < 200 || h < 150 ||
			    w > 10000 || h > 10000)
				return cli_usage_err(&cli_plot, "bad size '%s' (WxH)", optarg);
			break;
		default:
			return cli_usage_err(&cli_plot, NULL);
		}
	}
	if (optind >= argc || !out)
		return cli_usage_err(&cli_plot, "expected FILE and -o OUT.png");
	in = argv[optind++];
	memset(&p, 0, sizeof(p));
	if (optind < argc) {
		p.names = &argv[optind];
		p.nnames = argc - optind;
		p.name_seen = calloc((size_t)p.nnames, sizeof(*p.name_seen));
		if (!p.name_seen) {
			perror("umsampler plot");
			return CLI_EXIT_ERR;
		}
	}
	if (!title) {
		snprintf(deftitle, sizeof(deftitle), "umsampler: %s", in);
		title = deftitle;
	}
	ret = ums_decode_file(in, plot_sample, &p) ? CLI_EXIT_ERR : CLI_EXIT_OK;
	for (k = 0; !ret && k < p.nnames; k++)
		if (!p.name_seen[k])
			cli_cmd_err(&cli_plot, "no region named '%s' in %s", p.names[k],
				in);
	if (!ret) {
		tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/umsampler-plot.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			perror("umsampler plot: mkdtemp");
			ret = CLI_EXIT_ERR;
		} else {
			ret = plot_draw(&p, out, title, w, h, dir) ? CLI_EXIT_ERR : CLI_EXIT_OK;
			plot_cleanup(dir, &p);
		}
	}
	for (i = 0; i < p.n; i++) {
		free(p.s[i].t);
		free(p.s[i].v);
	}
	free(p.s);
	free(p.name_seen);
	return ret;
}
