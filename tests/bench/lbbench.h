/*
 * lbbench.h - the pieces of lbbench (the .c files of tests/bench, linked as one
 * program) that more than one file uses: the latency histogram, the clock,
 * address and unit parsing, the options every subcommand reads, and the
 * two load engines (connection per request, persistent connections).
 *
 * Every non-static name starts with lbb_ because lbbench links with the
 * objects of common/ and must not collide with them.
 */
#ifndef LBBENCH_H
#define LBBENCH_H

#include <sys/socket.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Log-linear histogram of nanosecond values (HDR-style).  Values below
 * 2^LBB_SUB_BITS are counted exactly; above, each power of two [2^m,
 * 2^(m+1)) is cut into 2^LBB_SUB_BITS equal buckets of width 2^(m-7), so a
 * bucket's width is at most 2^-7 = 0.78% of any value in it.  Percentiles
 * report the bucket's upper bound (never under the true value, at most
 * 0.78% over), clamped to the largest value recorded.  Values from 2^40 ns
 * (about 18 minutes) up land in the last bucket.
 */
#define LBB_SUB_BITS	7
#define LBB_SUB		(1u << LBB_SUB_BITS)
#define LBB_MAX_BITS	40
#define LBB_BUCKETS	((LBB_MAX_BITS - LBB_SUB_BITS + 1) * LBB_SUB)

struct lbb_hist {
	uint64_t	count;
	uint64_t	min;
	uint64_t	max;
	double		sum;
	uint64_t	b[LBB_BUCKETS];
};

void		lbb_hist_init(struct lbb_hist *h);
void		lbb_hist_add(struct lbb_hist *h, uint64_t ns);
void		lbb_hist_merge(struct lbb_hist *dst, const struct lbb_hist *src);
uint64_t	lbb_hist_pct(const struct lbb_hist *h, double q);
double		lbb_hist_mean(const struct lbb_hist *h);

/* Monotonic clock in nanoseconds. */
uint64_t	lbb_now(void);

/* Unit parsing; each returns 0, or -1 on malformed text. */
int	lbb_parse_addr(const char *s, struct sockaddr_storage *ss,
	    socklen_t *len);
int	lbb_parse_dur(const char *s, uint64_t *ns);	/* 50ms 2s 1.5s 5m */
int	lbb_parse_rate(const char *s, double *per_s);	/* 20000/s 20k 1.5k/s */
int	lbb_parse_frac(const char *s, double *frac);	/* 30% or 0.3 */
int	lbb_parse_uint(const char *s, uint64_t max, uint64_t *v);

/* Socket helpers: 0 or -1 with errno. */
int	lbb_nonblock(int fd);
int	lbb_raise_nofile(void);

#define LBB_MAX_TARGETS	16
#define LBB_MAX_SRC	64

/* What a load engine needs to know; filled by the option parser. */
struct lbb_opts {
	struct sockaddr_storage	target[LBB_MAX_TARGETS];
	socklen_t		target_len[LBB_MAX_TARGETS];
	int			ntarget;
	int			nsrc;		/* 127.0.0.2 .. 127.0.0.(nsrc+1) */
	uint64_t		duration_ns;	/* time bound of one run */
	uint64_t		max_requests;	/* count bound of one run */
	uint64_t		timeout_ns;	/* per request / connect */
	uint64_t		warmup_ns;	/* not recorded */
	double			rate;		/* open loop, per second; 0: closed */
	uint64_t		concurrency;	/* closed loop: slots in flight */
	uint64_t		conns;		/* latency, idle: connections */
	uint64_t		size;		/* request size in bytes */
	uint64_t		max_inflight;	/* open loop cap (connrate) */
	bool			quiet;		/* no human summary */
	const char		*label;		/* tag copied to the RESULT line */
};

/* What a run measured. */
struct lbb_result {
	uint64_t	ok;		/* completed requests */
	uint64_t	errors;		/* failed, timed out, dropped */
	uint64_t	dropped;	/* of errors: no free slot (open loop) */
	uint64_t	scheduled;	/* requests the schedule asked for */
	double		seconds;	/* length of the measured window */
	struct lbb_hist	hist;		/* latency of completed requests */
};

/* Set by SIGINT/SIGTERM: every loop checks it and winds down. */
extern volatile sig_atomic_t lbb_stop;

void	lbb_signals(void);
int	lbb_src_addr(const struct lbb_opts *o, uint64_t i,
	    const struct sockaddr_storage *dst, struct sockaddr_storage *src,
	    socklen_t *srclen);
int	lbb_connect(const struct lbb_opts *o, uint64_t i);

/* The engines.  0 on a finished run (errors are in *r), -1 on set-up. */
int	lbb_connrate_run(const struct lbb_opts *o, struct lbb_result *r);
int	lbb_latency_run(const struct lbb_opts *o, struct lbb_result *r);

void	lbb_result_print(const char *test, const struct lbb_opts *o,
	    const struct lbb_result *r);

/* Subcommands: argc/argv start at the subcommand name. */
int	lbb_cmd_serve(int argc, char **argv);
int	lbb_cmd_connrate(int argc, char **argv);
int	lbb_cmd_latency(int argc, char **argv);
int	lbb_cmd_idle(int argc, char **argv);
int	lbb_cmd_capacity(int argc, char **argv);

/* Shared option parsing for the load subcommands (opts.c). */
enum lbb_cmd {
	LBB_CMD_CONNRATE = 1 << 0,
	LBB_CMD_LATENCY = 1 << 1,
	LBB_CMD_IDLE = 1 << 2,
	LBB_CMD_CAPACITY = 1 << 3,
};

/* Options only capacity reads. */
struct lbb_cap_opts {
	uint64_t	slo_p99_ns;
	double		peak;
	double		headroom;
	double		max_errors;
	double		start;
	double		step;		/* added, or multiplied when step_mul */
	bool		step_mul;
	uint64_t	steps;
	uint64_t	step_ns;
	uint64_t	refine;
	bool		req_mode;	/* persistent requests, not connections */
	const char	*plot;		/* PNG path, or NULL */
	const char	*csv;		/* curve as CSV, or NULL */
};

int	lbb_opts_parse(enum lbb_cmd cmd, int argc, char **argv,
	    struct lbb_opts *o, struct lbb_cap_opts *c);
void	lbb_usage(FILE *fp);

#endif /* LBBENCH_H */
