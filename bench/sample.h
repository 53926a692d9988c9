/* What the bench programs read: the monotonic clock and a process's CPU and memory. */
#ifndef OSPAY_BENCH_SAMPLE_H
#define OSPAY_BENCH_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in ns, and in seconds. */
uint64_t bench_now_ns(void);
double bench_now_s(void);
/* utime + stime of pid in seconds (/proc/<pid>/stat), or -1. */
double bench_proc_cpu_s(int pid);
/* This process's own CPU seconds: a load generator near 1.0 per second is the limit. */
double bench_self_cpu_s(void);
/* RssAnon of pid in KiB (/proc/<pid>/status), or -1. */
long bench_rss_anon_kb(int pid);
/*
 * Ends a result's JSON line on stdout and flushes it: when pid > 0, first the
 * server's members: its pid, cpu_s, CPU per operation (named
 * "server_cpu_per_<per>_us", over ops operations) and peak RssAnon.
 */
void bench_json_end(int pid, double cpu_s, uint64_t ops, const char *per, long rss_peak_kb);

/* A bench program's option: --name, and the kind of variable its value goes to. */
typedef enum bench_opt_kind {
	BENCH_FLAG,   /* bool, set by the option alone */
	BENCH_TEXT,   /* const char *, the argument itself */
	BENCH_INT,    /* int */
	BENCH_UINT,   /* unsigned */
	BENCH_U64,    /* uint64_t */
	BENCH_SIZE,   /* size_t */
	BENCH_DOUBLE, /* double */
} bench_opt_kind_t;

typedef struct bench_opt {
	const char *name;
	bench_opt_kind_t kind;
	void *dst;
} bench_opt_t;

/*
 * Reads argv[from..argc) against the n options (numbers in decimal, read the
 * strtoul/strtod way). 0, or -1 for an unknown option or one missing its value.
 */
int bench_opts_parse(int argc, char **argv, int from, const bench_opt_t *opts, size_t n);

#endif
