/*
 * ospay CLI: any protobuf-c message as JSON, driven by its descriptor, so a new
 * command gets `--json` output without writing a converter.
 *
 * Mapping (what scripts can rely on):
 *   - keys are the .proto field names (snake_case), in field-number order;
 *   - every field is present, zero and default values included; an unset
 *     message field is null, and so is an unset proto3 `optional` field; of a
 *     oneof only the member that is set appears;
 *   - enums are their value names ("ROLE_ADMIN"), or the number when unknown;
 *   - 32- and 64-bit integers are JSON numbers; a uint64 above INT64_MAX (which
 *     jansson cannot hold) is a decimal string, so no digit is lost;
 *   - float and double are numbers; NaN and infinities are "NaN", "Infinity",
 *     "-Infinity" (as in the protobuf JSON mapping);
 *   - bytes are standard base64 with padding;
 *   - strings that are not valid UTF-8 get U+FFFD for each bad byte;
 *   - repeated fields are arrays (map fields: arrays of {key, value} objects).
 */
#ifndef OSPAY_CLI_PBJSON_H
#define OSPAY_CLI_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

/* A new JSON object for m (the caller owns it); NULL when out of memory or nested too deep. */
json_t *cli_pbjson_from_message(const ProtobufCMessage *m);

/* Standard base64 with padding of n bytes; out must hold 4 * ((n + 2) / 3) + 1 bytes. */
void cli_pbjson_base64(const uint8_t *in, size_t n, char *out);

#endif
