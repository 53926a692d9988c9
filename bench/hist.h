/*
 * A log-linear latency histogram in the manner of HdrHistogram: values (ns)
 * below 2048 are exact, larger ones are kept to 1/1024 of their power of two,
 * up to 2^44 ns (about 4.9 hours). Shared by the bench load generators.
 */
#ifndef OSPAY_BENCH_HIST_H
#define OSPAY_BENCH_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 10
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_SHIFT 34
#define HIST_BUCKETS (2 * HIST_SUB + HIST_MAX_SHIFT * HIST_SUB)

typedef struct hist {
	uint64_t count[HIST_BUCKETS];
	uint64_t total, max;
} hist_t;

void hist_record(hist_t *h, uint64_t v);
/* The p-th percentile (0 < p <= 100), erring on the high side; 0 when empty. */
uint64_t hist_percentile(const hist_t *h, double p);
/* Prints the JSON members ,"p50_us",... ,"max_us" (microseconds) of h to stdout. */
void hist_print_json(const hist_t *h);

#endif
