/*
 * Valid identifiers for test and benchmark data: CPFs and card numbers that
 * pass their check digits. Plain C with no Criterion, so bench/ builds it too.
 */
#ifndef OSPAY_TESTS_TESTDATA_H
#define OSPAY_TESTS_TESTDATA_H

#include <stdint.h>

/* A valid CPF (11 digits, no punctuation) made from n; different n give different CPFs. */
void tsd_cpf(uint32_t n, char out[12]);
/*
 * A 16-digit Visa number passing Luhn whose final digit is last % 10 (the
 * sandbox's outcome digit). Returns 0, or -EINVAL when there is none.
 */
int tsd_visa_ending(unsigned last, char out[17]);
/* The same for any 12-digit prefix ("555555555555": Mastercard). */
int tsd_number_ending(const char *prefix, unsigned last, char out[17]);

#endif
