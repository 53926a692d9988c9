/* Brazilian postal addresses: states (UF) and postal codes (CEP). Pure, no I/O. */
#ifndef OSPAY_CORE_ADDR_H
#define OSPAY_CORE_ADDR_H

/*
 * A state's two-letter code (UF), any case: the 26 states and DF. Writes the
 * upper-case code to out. Returns NULL, or why not (static).
 */
const char *addr_uf_parse(const char *in, char out[3]);

/* A CEP: 8 digits, "01310-100" and "01310100" alike. Writes the digits. NULL or why not. */
const char *addr_cep_parse(const char *in, char out[9]);

#endif
