/* The bench programs' samples (sample.h). */
#include "sample.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_now_s(void)
{
	return (double)bench_now_ns() / 1e9;
}

double bench_proc_cpu_s(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces: fields are counted after its closing ')'. */
	char *p = strrchr(buf, ')');
	unsigned long utime = 0, stime = 0;
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&utime, &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

double bench_self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

long bench_rss_anon_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

void bench_json_end(int pid, double cpu_s, uint64_t ops, const char *per, long rss_peak_kb)
{
	if (pid > 0)
		printf(",\"server_pid\":%d,\"server_cpu_s\":%.2f,\"server_cpu_per_%s_us\":%.2f,"
		       "\"server_rss_anon_peak_kb\":%ld",
		       pid, cpu_s, per, ops > 0 ? cpu_s * 1e6 / (double)ops : 0, rss_peak_kb);
	printf("}\n");
	fflush(stdout);
}

int bench_opts_parse(int argc, char **argv, int from, const bench_opt_t *opts, size_t n)
{
	for (int i = from; i < argc; i++) {
		const bench_opt_t *o = opts;
		while (o < opts + n && strcmp(argv[i], o->name) != 0)
			o++;
		if (o == opts + n)
			return -1;
		if (o->kind == BENCH_FLAG) {
			*(bool *)o->dst = true;
			continue;
		}
		if (i + 1 >= argc)
			return -1;
		const char *v = argv[++i];
		switch (o->kind) {
		case BENCH_TEXT:
			*(const char **)o->dst = v;
			break;
		case BENCH_INT:
			*(int *)o->dst = atoi(v);
			break;
		case BENCH_UINT:
			*(unsigned *)o->dst = (unsigned)strtoul(v, NULL, 10);
			break;
		case BENCH_U64:
			*(uint64_t *)o->dst = strtoull(v, NULL, 10);
			break;
		case BENCH_SIZE:
			*(size_t *)o->dst = (size_t)strtoull(v, NULL, 10);
			break;
		case BENCH_DOUBLE:
			*(double *)o->dst = strtod(v, NULL);
			break;
		case BENCH_FLAG:
			break;
		}
	}
	return 0;
}
