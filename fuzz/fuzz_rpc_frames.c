/*
 * libFuzzer target: the RPC frame decoder and every request body decoder.
 * Input = a byte stream as a client would send it; it is cut into frames,
 * each decoded as an RpcRequest, and its body decoded with the descriptor of
 * the method it names (as the dispatcher does). Nothing may crash, leak or
 * read out of bounds, whatever the bytes.
 */
#include <stddef.h>
#include <stdint.h>

#include "net/rpc.h"
#include "ospay/v1/rpc.pb-c.h"
#include "server/rpc/srv.h"
#include "server/services/services.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const size_t max = 1u << 20;
	while (size >= 4) {
		size_t n;
		int fr = rpc_frame_next(data, size, max, &n);
		if (fr != RPC_FRAME_OK)
			break;
		Ospay__V1__RpcRequest *req = ospay__v1__rpc_request__unpack(NULL, n, data + 4);
		if (req != NULL) {
			const srv_method_t *m = services_method_find(req->method);
			if (m != NULL) {
				ProtobufCMessage *in = protobuf_c_message_unpack(
					m->in, NULL, req->body.len, req->body.data);
				if (in != NULL)
					protobuf_c_message_free_unpacked(in, NULL);
			}
			ospay__v1__rpc_request__free_unpacked(req, NULL);
		}
		data += 4 + n;
		size -= 4 + n;
	}
	return 0;
}
