#!/usr/bin/python3
"""The JSON mapping (src/common/pbjson.c) against Google's protobuf runtime.

For every message type of proto/ (samples with every field set, and empty ones,
written by pbjson_tool gen):
  - what pbjson writes, json_format reads into the same message, and it is the
    JSON json_format itself writes (same keys, same value forms);
  - what json_format writes (lowerCamelCase, and with the .proto names), pbjson
    reads into the same message;
  - a key neither knows is refused by both.
Usage: pbjson_python.py PBJSON_TOOL PROTO_DIR
"""
import base64
import glob
import importlib
import json
import os
import subprocess
import sys
import tempfile

from google.protobuf import json_format, symbol_database


def load_modules(proto_dir, out):
    protos = sorted(glob.glob(os.path.join(proto_dir, "ospay", "v1", "*.proto")))
    subprocess.run(["protoc", "--python_out=" + out, "-I" + proto_dir] + protos, check=True)
    sys.path.insert(0, out)
    for p in protos:
        importlib.import_module("ospay.v1." + os.path.basename(p)[:-6] + "_pb2")


def main():
    tool, proto_dir = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        load_modules(proto_dir, tmp)
        db = symbol_database.Default()
        samples = subprocess.run([tool, "gen"], check=True, capture_output=True,
                                 text=True).stdout.splitlines()
        queries, expect = [], []
        types = set()
        for line in samples:
            name, b64, c_json = line.split("\t", 2)
            cls = db.GetSymbol(name)
            want = cls.FromString(base64.b64decode(b64))
            types.add(name)
            # pbjson wrote it: json_format reads the same message...
            got = json_format.Parse(c_json, cls())
            assert got == want, f"{name}: json_format read {c_json} as {got}, not {want}"
            # ...and would have written exactly that JSON.
            py_json = json_format.MessageToJson(want)
            assert json.loads(py_json) == json.loads(c_json), \
                f"{name}: pbjson wrote {c_json}\njson_format writes {py_json}"
            # json_format wrote it: pbjson reads it, both name spellings.
            queries.append(f"{name}\t{json.dumps(json.loads(py_json))}")
            expect.append((name, want, "camel"))
            snake = json_format.MessageToJson(want, preserving_proto_field_name=True)
            queries.append(f"{name}\t{json.dumps(json.loads(snake))}")
            expect.append((name, want, "proto names"))
        # Unknown keys: refused by both.
        for name in sorted(types):
            bad = '{"noSuchField": 1}'
            try:
                json_format.Parse(bad, db.GetSymbol(name)())
                raise AssertionError(f"{name}: json_format accepted {bad}")
            except json_format.ParseError:
                pass
            queries.append(f"{name}\t{bad}")
            expect.append((name, None, "unknown key"))
        out = subprocess.run([tool, "parse"], input="\n".join(queries) + "\n", check=True,
                             capture_output=True, text=True).stdout.splitlines()
        assert len(out) == len(expect), f"{len(out)} answers to {len(expect)} queries"
        for (name, want, how), answer, query in zip(expect, out, queries):
            status, rest = answer.split("\t", 1)
            if want is None:
                assert status == "ERR" and "noSuchField: unknown field" in rest, \
                    f"{name}: pbjson answered {answer} to an unknown key"
                continue
            assert status == "OK", f"{name} ({how}): pbjson refused {query}: {rest}"
            got = db.GetSymbol(name).FromString(base64.b64decode(rest))
            assert got == want, f"{name} ({how}): pbjson read {query} as {got}"
        print(f"pbjson agrees with json_format: {len(types)} message types, "
              f"{len(samples)} samples, {len(queries)} reads by pbjson")


if __name__ == "__main__":
    main()
