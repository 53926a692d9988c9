/* What the bench programs read: the monotonic clock and a process's CPU and memory. */
#ifndef OSPAY_BENCH_SAMPLE_H
#define OSPAY_BENCH_SAMPLE_H

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

#endif
