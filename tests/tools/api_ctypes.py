#!/usr/bin/python3
"""api_ctypes.py LIB: libllmops-api through Python's ctypes, as any language
with a C FFI would use it. Records into $LLMOPS_DB, session "py": i = 0..2
synchronously, 3..5 asynchronously (committed by the library's exit flush
when the interpreter exits). A refused record must return LLMOPS_EFIELD and
a readable llmops_strerror. Exit 1 with a message otherwise."""
import ctypes
import json
import sys

LLMOPS_EFIELD = -30602

lib = ctypes.CDLL(sys.argv[1])
lib.llmops_record_completion.argtypes = [ctypes.c_char_p]
lib.llmops_record_completion.restype = ctypes.c_int
lib.llmops_record_completion_async.argtypes = [ctypes.c_char_p]
lib.llmops_record_completion_async.restype = ctypes.c_int
lib.llmops_strerror.argtypes = [ctypes.c_int]
lib.llmops_strerror.restype = ctypes.c_char_p


def rec(i):
    return json.dumps({"provider": "custom", "model": "m-py", "session_id": "py",
                       "input_tokens": i, "output_tokens": 2 * i, "latency_ms": i + 0.5,
                       "status": "ok", "extras": {"i": i}}).encode()


for i in range(3):
    rc = lib.llmops_record_completion(rec(i))
    if rc:
        sys.exit(f"api_ctypes: sync record {i}: {rc} {lib.llmops_strerror(rc)}")
for i in range(3, 6):
    rc = lib.llmops_record_completion_async(rec(i))
    if rc:
        sys.exit(f"api_ctypes: async record {i}: {rc} {lib.llmops_strerror(rc)}")
rc = lib.llmops_record_completion(b'{"model": "x", "colour": "blue"}')
if rc != LLMOPS_EFIELD or not lib.llmops_strerror(rc):
    sys.exit(f"api_ctypes: unknown field gave {rc} {lib.llmops_strerror(rc)!r}")
print("api_ctypes: OK", file=sys.stderr)
